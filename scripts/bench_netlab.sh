#!/usr/bin/env bash
# Swarm benchmarks between hosts with links of their own (scripts/netlab.sh: network namespaces
# on a bridge, htb rates, user-space delay and loss), each case against baselines measured on
# the same links in the same run: nginx -> curl, and stock libtorrent 2.0.8 (scripts/lt_stock.py,
# Debian's python3-libtorrent, default settings).
#
#   1. pair: one seeder -> one leecher over 1 Gbit/s links, no added delay
#   2. internet: the leecher's link is 50 Mbit/s, 20 ms each way (40 ms RTT), 0.5% loss each way;
#      modelswarm's default (internet) profile, and TCP-only / uTP-only / both
#   3. fan-out: 1 seeder + N leechers, every link U; each leecher is told only the seeder's
#      address (plus local service discovery on the bridge); also at 4 and 8 leechers (case 6)
#   4. mixed: N/2 leechers at U and N/2 at U/10: the fast ones' finish time
#   5. churn: N/4 leechers killed (SIGKILL) at random mid-transfer and restarted
#   6. seeder CPU and RSS against the number of leechers (from case 3's runs)
#
# Usage: scripts/bench_netlab.sh [build-dir]     (root; nothing else heavy may run meanwhile)
#   env: CASES="1 2 3 4 5" PAIR_MB=512 NET_MB=64 FAN_MB=48 FAN_PIECE=256K U=25 (Mbit/s) N=16
#        FAN_NS="4 8 16" NET_RUNS=1 (case 2 rounds; ratios of medians when more)
#        NET_VARIANTS=all (or "default": case 2 without TCP-only / uTP-only / both)
#        BASELINE_MS=path/to/other/modelswarm (case 2 measures it too, same links, same rounds)
#        RUN_TIMEOUT=300 (seconds per transfer) FAN_FLAGS="..." (extra modelswarm flags, fan-out
#        cases) BASELINES=0 (fan-out without the HTTP and stock-libtorrent runs) KEEP_LOGS=DIR (copy the processes' logs there)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$here/build}
ms=$build/cli/modelswarm
gen=$build/tests/make_bench_gguf
export NETLAB_LINKEMU=${NETLAB_LINKEMU:-$build/tests/linkemu}
CASES=${CASES:-"1 2 3 4 5"}
PAIR_MB=${PAIR_MB:-512}
NET_MB=${NET_MB:-64}
FAN_MB=${FAN_MB:-48}
U=${U:-25}
N=${N:-16}
FAN_NS=${FAN_NS:-"4 8 $N"}
# Pieces small against the release, as in a real one (4 MiB pieces of a 4 GiB file): a piece
# must be whole at one leecher before it can pass it on, so piece/(U/k) is a delay per hop.
FAN_PIECE=${FAN_PIECE:-256K}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
py=/usr/bin/python3
for t in "$ms" "$gen" "$NETLAB_LINKEMU"; do
  [ -x "$t" ] || { echo "bench_netlab.sh: $t missing; build the project first" >&2; exit 1; }
done
$py -c 'import libtorrent' 2>/dev/null || { echo "bench_netlab.sh: python3-libtorrent missing (scripts/setup.sh installs it)" >&2; exit 1; }
command -v nginx >/dev/null && command -v curl >/dev/null || { echo "bench_netlab.sh: needs nginx and curl" >&2; exit 1; }

work=$(mktemp -d /tmp/modelswarm-netlab-XXXXXX)
source "$here/scripts/netlab.sh"
lab=""
# One lab at a time: each case builds the hosts it needs and tears them down.
lab_down() { [ -n "$lab" ] && netlab_teardown "$lab"; lab=""; }
# KEEP_LOGS=DIR: every process's log is copied there (for a closer look at a case).
cleanup() {
  lab_down
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$KEEP_LOGS"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
labn=0
lab_up() {  # starts a new lab (hosts added by the caller)
  lab_down
  labn=$((labn + 1))
  lab=nl$$_$labn
  NETLAB_NO_TRAP=1 netlab_init "$lab"
}

now() { date +%s.%N; }
pyc() { $py -c "$1"; }
export MODELSWARM_HOME=$work/home   # the publisher's (the seeder's) state: its seed record
"$ms" keygen -o "$work/key" --no-password >/dev/null
make_release() {  # name size_mb piece -> dir
  local dir=$work/pub/$1
  mkdir -p "$dir"
  "$gen" "$dir/model.gguf" "$2" 32
  "$ms" pack "$dir" --key "$work/key.key" --name "$1" --version 1 --piece-size "$3" >/dev/null
  echo "$dir"
}

# ---- helpers that run things on lab hosts ----
ms_flags=(--json --listen 0.0.0.0:6881 --no-dht --status-interval 0.5)
start_seeder() {  # host release_dir log [flags...]  -> pid in SEED_PID
  local host=$1 rel=$2 log=$3; shift 3
  netlab_bg "$host" "$log" env MODELSWARM_HOME="$MODELSWARM_HOME" "$ms" seed "$rel" "${ms_flags[@]}" "$@"
  SEED_PID=$NETLAB_LAST_PID
  for _ in $(seq 200); do grep -q '"listening"' "$log" 2>/dev/null && return 0; sleep 0.05; done
  echo "seeder on $host did not start: $(tail -c 300 "$log")" >&2; return 1
}
start_fetch() {  # host torrent log [flags...] -> pid in FETCH_PID
  local host=$1 torrent=$2 log=$3; shift 3
  mkdir -p "$work/h/$host"
  netlab_bg "$host" "$log" env MODELSWARM_HOME="$work/h/$host/home" "$ms" fetch "$torrent" \
    --trust "$work/key.pub" -o "$work/h/$host/out" "${ms_flags[@]}" "$@"
  FETCH_PID=$NETLAB_LAST_PID
}
# Waits until every log has a line matching the pattern (or timeout); prints each one's
# finish time relative to t0, in the order of the logs.
wait_done() {  # t0 pattern logs...
  local t0=$1 pat=$2; shift 2
  local -A done_at=()
  local deadline; deadline=$(pyc "print($(now)+$RUN_TIMEOUT)")
  while :; do
    local all=1 l
    for l in "$@"; do
      [ -n "${done_at[$l]:-}" ] && continue
      if grep -q "$pat" "$l" 2>/dev/null; then done_at[$l]=$(pyc "print(f'{$(now)-$t0:.2f}')"); else all=0; fi
    done
    [ "$all" = 1 ] && break
    if pyc "import sys; sys.exit(0 if $(now) > $deadline else 1)"; then
      for l in "$@"; do [ -n "${done_at[$l]:-}" ] || done_at[$l]=timeout; done
      break
    fi
    sleep 0.1
  done
  for l in "$@"; do echo "${done_at[$l]}"; done
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; kill -KILL "$1" 2>/dev/null || true; }
# The last "uploaded" figure a modelswarm or lt_stock log reports.
uploaded() { grep -oE '"uploaded": ?[0-9]+' "$1" | tail -1 | grep -oE '[0-9]+$' || echo 0; }
nginx_on() {  # host -> starts nginx on HOST:8080 serving $work/pub
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1;
pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 256; }
http { access_log off; sendfile on; server { listen 0.0.0.0:8080; root $work/pub; } }
CONF
  netlab_bg "$1" "$work/nginx/out.log" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
  NGINX_PID=$NETLAB_LAST_PID
  sleep 0.5
}
curl_time() {  # host url -> seconds
  netlab_exec "$1" curl -s -o "$work/curl.out" -w '%{time_total}\n' "$2"
}
lt_seed() {  # host torrent savepath log -> pid in LTS_PID, waits until it seeds
  netlab_bg "$1" "$4" "$py" "$here/scripts/lt_stock.py" seed "$2" "$3" --listen 0.0.0.0:6881 "${@:5}"
  LTS_PID=$NETLAB_LAST_PID
  for _ in $(seq 1200); do grep -q '"seeding"' "$4" 2>/dev/null && return 0; sleep 0.05; done
  echo "stock seeder did not start: $(tail -c 300 "$4")" >&2; return 1
}
lt_fetch() {  # host torrent out log [flags...] -> pid in LTF_PID
  mkdir -p "$3"
  netlab_bg "$1" "$4" "$py" "$here/scripts/lt_stock.py" fetch "$2" "$3" --listen 0.0.0.0:6881 \
    --timeout "$RUN_TIMEOUT" "${@:5}"
  LTF_PID=$NETLAB_LAST_PID
}
lt_seconds() { grep -oE '"seconds": ?[0-9.]+' "$1" | grep -oE '[0-9.]+$' || echo timeout; }
cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8, $5+$6}' /proc/stat; }  # total idle
proc_cpu_s() { awk '{print ($14+$15)/100}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Anonymous memory only: the release's pages mapped by the mmap back-end count in VmRSS too.
proc_anon_kb() { awk '/RssAnon/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- 1. pair, 1 Gbit/s ----
case_pair() {
  echo "== 1. one seeder -> one leecher, ${PAIR_MB} MiB, 1 Gbit/s links, no added delay"
  local rel; rel=$(make_release pair "$PAIR_MB" 4M)
  local bytes; bytes=$(stat -c %s "$rel/model.gguf")
  lab_up
  netlab_add_host s 1gbit 1gbit
  netlab_add_host l 1gbit 1gbit
  local sip; sip=$(netlab_ip s)
  nginx_on s
  local best_curl=999 t
  for _ in 1 2 3; do
    t=$(curl_time l "http://$sip:8080/pair/model.gguf")
    best_curl=$(pyc "print(min($best_curl,$t))")
  done
  stop_pid "$NGINX_PID"
  local curl_rate; curl_rate=$(pyc "print(f'{$bytes/$best_curl/1e6:.0f}')")
  echo "nginx -> curl: best of 3 ${best_curl} s = ${curl_rate} MB/s"
  local rates=() run t0 times
  for run in 1 2 3; do
    start_seeder s "$rel" "$work/s.log" --profile lan
    rm -rf "$work/h/l"
    t0=$(now)
    start_fetch l "$rel/.modelswarm/release.torrent" "$work/l.log" --profile lan --peer "$sip:6881"
    times=$(wait_done "$t0" '"event":"done"' "$work/l.log")
    wait "$FETCH_PID" 2>/dev/null || true
    stop_pid "$SEED_PID"
    [ "$times" = timeout ] && { echo "fetch run $run timed out: $(tail -c 300 "$work/l.log")"; continue; }
    rates+=("$times")
  done
  [ ${#rates[@]} -gt 0 ] && pyc "
import statistics
r=[float(x) for x in '${rates[*]}'.split()]
m=statistics.median(r)
print(f'modelswarm fetch (lan profile, metadata + transfer + checks): median {m:.2f} s = {$bytes/m/1e6:.0f} MB/s = {$best_curl/m:.2f} x curl (runs: {\" \".join(f\"{x:.2f}\" for x in r)})')"
  lt_seed s "$rel/.modelswarm/release.torrent" "$work/pub" "$work/lts.log"
  rm -rf "$work/lt-out"
  t0=$(now)
  lt_fetch l "$rel/.modelswarm/release.torrent" "$work/lt-out" "$work/ltf.log" --peer "$sip:6881"
  wait "$LTF_PID" 2>/dev/null || true
  stop_pid "$LTS_PID"
  local lts; lts=$(lt_seconds "$work/ltf.log")
  [ "$lts" != timeout ] && echo "stock libtorrent 2.0.8: ${lts} s = $(pyc "print(f'{$bytes/$lts/1e6:.0f} MB/s = {$best_curl/$lts:.2f} x curl')")"
  lab_down
  rm -rf "$rel" "$work/lt-out" "$work/h"
}

# ---- 2. internet-like link ----
case_internet() {
  echo
  echo "== 2. internet-like link: leecher at 50 Mbit/s, 20 ms each way, 0.5% loss each way; ${NET_MB} MiB"
  local rel; rel=$(make_release net "$NET_MB" 1M)
  local bytes; bytes=$(stat -c %s "$rel/model.gguf")
  lab_up
  netlab_add_host s 1gbit 1gbit
  netlab_add_host l 50mbit 50mbit 20 0 0.5
  local sip; sip=$(netlab_ip s)
  echo "ping RTT: $(netlab_exec l ping -c 3 -q "$sip" | tail -1)"
  local variants=("default (internet profile)|")
  [ -n "${BASELINE_MS:-}" ] && variants+=("baseline build, default profile|BASELINE")
  [ "${NET_VARIANTS:-all}" = all ] && variants+=("TCP only|--transport tcp" "uTP only|--transport utp" "TCP and uTP (libtorrent's way)|--transport both")
  local label flags t0 times ct run bin=$ms
  local -A all_times=()
  local curls=()
  # NET_RUNS rounds, each: nginx -> curl, then every variant; the ratios use the median times.
  for run in $(seq "${NET_RUNS:-1}"); do
    nginx_on s
    ct=$(curl_time l "http://$sip:8080/net/model.gguf")
    stop_pid "$NGINX_PID"
    curls+=("$ct")
    echo "nginx -> curl: ${ct} s = $(pyc "print(f'{$bytes/$ct/1e6:.2f} MB/s')")"
    for label in "${variants[@]}"; do
      flags=${label#*|}; label=${label%%|*}
      # The baseline build runs both ends; $ms is restored as soon as they have stopped.
      if [ "$flags" = BASELINE ]; then ms=$BASELINE_MS; flags=; fi
      # shellcheck disable=SC2086
      start_seeder s "$rel" "$work/s.log" --no-lsd $flags
      rm -rf "$work/h/l"
      t0=$(now)
      # shellcheck disable=SC2086
      start_fetch l "$rel/.modelswarm/release.torrent" "$work/l.log" --no-lsd --peer "$sip:6881" $flags
      times=$(wait_done "$t0" '"event":"done"' "$work/l.log")
      stop_pid "$FETCH_PID"; stop_pid "$SEED_PID"
      ms=$bin
      if [ "$times" = timeout ]; then echo "$label: timed out after ${RUN_TIMEOUT} s"; continue; fi
      all_times[$label]+="$times "
      echo "modelswarm, $label: ${times} s = $(pyc "print(f'{$bytes/$times/1e6:.2f} MB/s = {$ct/$times:.2f} x curl')")"
    done
  done
  local joined="${curls[*]}"
  ct=$(pyc "import statistics; print(statistics.median([${joined// /,}]))")
  if [ "${NET_RUNS:-1}" -gt 1 ]; then
    for label in "${!all_times[@]}"; do
      pyc "import statistics; t=statistics.median([float(x) for x in '${all_times[$label]}'.split()]); print(f'median of ${NET_RUNS} runs, $label: {t:.2f} s = {$ct/t:.2f} x curl (median {$ct:.2f} s)')"
    done
  fi
  lt_seed s "$rel/.modelswarm/release.torrent" "$work/pub" "$work/lts.log"
  rm -rf "$work/lt-out"
  lt_fetch l "$rel/.modelswarm/release.torrent" "$work/lt-out" "$work/ltf.log" --peer "$sip:6881"
  wait "$LTF_PID" 2>/dev/null || true
  stop_pid "$LTS_PID"
  local lts; lts=$(lt_seconds "$work/ltf.log")
  [ "$lts" != timeout ] && echo "stock libtorrent 2.0.8 (uTP first, its default): ${lts} s = $(pyc "print(f'{$ct/$lts:.2f} x curl')")" || echo "stock libtorrent: timed out"
  lab_down
  rm -rf "$rel" "$work/lt-out" "$work/h"
}

# ---- 3/4/5/6. fan-out ----
# Runs one fan-out of modelswarm: seeder `s` + the lab's leechers l1..lK; prints a line with the
# last (and each group's) finish time against S/U, the seeder's upload, CPU and RSS.
FAN_REL=""
fan_release() { [ -n "$FAN_REL" ] || FAN_REL=$(make_release fan "$FAN_MB" "$FAN_PIECE"); }
fan_lab() {  # k fast_k slow_factor
  local k=$1 fast=$2 slow=$3 i
  lab_up
  netlab_add_host s "${U}mbit" "${U}mbit"
  for i in $(seq 1 "$k"); do
    if [ "$i" -le "$fast" ]; then netlab_add_host "l$i" "${U}mbit" "${U}mbit"
    else netlab_add_host "l$i" "$(pyc "print(f'{$U*1000/$slow:.0f}kbit')")" "$(pyc "print(f'{$U*1000/$slow:.0f}kbit')")"; fi
  done
}
# What one TCP flow carries over one idle U link (payload: less the headers' 4.4%), measured
# once per run: the fan-out ratios are against S over this.
UEFF=""
measure_ueff() {
  [ -n "$UEFF" ] && return 0
  head -c $((8 << 20)) /dev/urandom > "$work/pub/probe"
  nginx_on s
  local t; t=$(curl_time l1 "http://$(netlab_ip s):8080/probe")
  stop_pid "$NGINX_PID"
  UEFF=$(pyc "print($((8 << 20))*8/$t/1e6)")
  echo "one TCP flow over one idle ${U} Mbit/s link: $(pyc "print(f'{$UEFF:.1f}')") Mbit/s of payload (U in the ratios below)"
}
run_fan() {  # label k fast_k [churn_k]
  local label=$1 k=$2 fast=$3 churn=${4:-0}
  measure_ueff
  local bytes; bytes=$(stat -c %s "$FAN_REL/model.gguf")
  local ideal; ideal=$(pyc "print($bytes*8/($UEFF*1e6))")
  local sip; sip=$(netlab_ip s)
  rm -rf "$work/h"
  # shellcheck disable=SC2086
  start_seeder s "$FAN_REL" "$work/s.log" --profile lan ${FAN_FLAGS:-}
  local c0; c0=$(cpu_ticks)
  local t0; t0=$(now)
  local logs=() pids=() i
  for i in $(seq 1 "$k"); do
    # shellcheck disable=SC2086
    start_fetch "l$i" "$FAN_REL/.modelswarm/release.torrent" "$work/l$i.log" --profile lan --seed --peer "$sip:6881" ${FAN_FLAGS:-}
    logs+=("$work/l$i.log"); pids+=("$FETCH_PID")
  done
  if [ "$churn" -gt 0 ]; then
    # Kill `churn` random leechers at a random moment between 25% and 60% of S/U, restart them.
    local victims; victims=$(pyc "import random; random.seed($$); print(' '.join(str(x) for x in random.sample(range(1,$k+1),$churn)))")
    sleep "$(pyc "import random; random.seed($$+1); print(f'{$ideal*random.uniform(0.25,0.6):.1f}')")"
    for i in $victims; do
      kill -"${CHURN_SIGNAL:-KILL}" "${pids[$((i-1))]}" 2>/dev/null || true
      wait "${pids[$((i-1))]}" 2>/dev/null || true
      mv "$work/l$i.log" "$work/l$i.first.log"
      netlab_bg "l$i" "$work/l$i.log" env MODELSWARM_HOME="$work/h/l$i/home" "$ms" fetch "$FAN_REL/.modelswarm/release.torrent" \
        --trust "$work/key.pub" -o "$work/h/l$i/out" "${ms_flags[@]}" --profile lan --seed --peer "$sip:6881" ${FAN_FLAGS:-}
      pids[$((i-1))]=$NETLAB_LAST_PID
    done
    echo "SIG${CHURN_SIGNAL:-KILL} to l${victims// / l}, then restarted"
  fi
  mapfile -t times < <(wait_done "$t0" '"event":"done"' "${logs[@]}")
  local c1; c1=$(cpu_ticks)
  local scpu shwm; scpu=$(proc_cpu_s "$SEED_PID"); shwm=$(proc_anon_kb "$SEED_PID")
  sleep 0.6  # one more status tick for the seeder's upload total
  local sent; sent=$(uploaded "$work/s.log")
  for i in "${pids[@]}"; do stop_pid "$i"; done
  stop_pid "$SEED_PID"
  local ok=0
  for i in $(seq 1 "$k"); do [ -f "$work/h/l$i/out/fan/model.gguf" ] && ok=$((ok + 1)); done
  pyc "
t='${times[*]}'.split(); fast=$fast; ideal=$ideal
def mx(v): return 'timeout' if 'timeout' in v else f'{max(float(x) for x in v):.1f} s = {max(float(x) for x in v)/ideal:.2f} x S/U'
c0=[int(x) for x in '$c0'.split()]; c1=[int(x) for x in '$c1'.split()]
idle=(c1[1]-c0[1])/max(1,c1[0]-c0[0])
msg=f'$label: S/U {ideal:.1f} s; last of the {fast} at U done at {mx(t[:fast])}'
if fast < len(t): msg += f'; slow ones (U/10) {\"still running\" if \"timeout\" in t[fast:] else mx(t[fast:])}'
msg += f'; seeder sent {$sent/$bytes:.2f} x S; {\"$ok\"}/{len(t)} releases in place; idle CPU {idle*100:.0f}%; seeder CPU {$scpu:.1f} s, anonymous memory {$shwm/1024:.0f} MiB'
print(msg)"
  FAN_SEEDER_CPU=$scpu FAN_SEEDER_HWM=$shwm
}
# Churn check: no piece verified by a killed run was downloaded again by its restart.
churn_check() {
  local f i dup=0 n=0
  for f in "$work"/l*.first.log; do
    [ -e "$f" ] || continue
    i=${f%.first.log}
    n=$((n + 1))
    local d; d=$(pyc "
import json,sys
def pieces(p):
    s=set()
    for line in open(p):
        try: j=json.loads(line)
        except Exception: continue
        if j.get('event')=='piece' and j.get('message')=='downloaded': s.add(j['piece'])
    return s
a,b=pieces('$f'),pieces('$i.log')
print(len(a&b), len(a), len(b))")
    echo "  ${i##*/}: pieces downloaded and verified before the kill / after the restart / both: $(echo "$d" | awk '{print $2" / "$3" / "$1}')"
    dup=$((dup + $(echo "$d" | cut -d' ' -f1)))
  done
  echo "  verified pieces downloaded twice: $dup (over $n restarted leechers)"
}
run_stock_fan() {  # k
  local k=$1 i
  local bytes; bytes=$(stat -c %s "$FAN_REL/model.gguf")
  local ideal; ideal=$(pyc "print($bytes*8/($UEFF*1e6))")
  local sip; sip=$(netlab_ip s)
  lt_seed s "$FAN_REL/.modelswarm/release.torrent" "$work/pub" "$work/lts.log" --lsd
  local logs=() pids=()
  rm -rf "$work/lt"
  for i in $(seq 1 "$k"); do
    lt_fetch "l$i" "$FAN_REL/.modelswarm/release.torrent" "$work/lt/l$i" "$work/ltl$i.log" --peer "$sip:6881" --lsd --linger "$RUN_TIMEOUT"
    logs+=("$work/ltl$i.log"); pids+=("$LTF_PID")
  done
  wait_done "$(now)" '"event": "done"' "${logs[@]}" >/dev/null
  stop_pid "$LTS_PID"
  for i in "${pids[@]}"; do stop_pid "$i"; done
  local sent; sent=$(uploaded "$work/lts.log")
  local secs=() l
  for l in "${logs[@]}"; do secs+=("$(lt_seconds "$l")"); done
  pyc "
t='${secs[*]}'.split(); ideal=$ideal
last='timeout' if 'timeout' in t else f'{max(float(x) for x in t):.1f} s = {max(float(x) for x in t)/ideal:.2f} x S/U'
print(f'stock libtorrent 2.0.8, $k leechers (told the seeder, LSD and PEX on): last done at {last}; seeder sent {$sent/$bytes:.2f} x S')"
  rm -rf "$work/lt"
}
run_http_fan() {  # k
  local k=$1 i
  local bytes; bytes=$(stat -c %s "$FAN_REL/model.gguf")
  local ideal; ideal=$(pyc "print($bytes*8/($UEFF*1e6))")
  local sip; sip=$(netlab_ip s)
  nginx_on s
  local pids=()
  for i in $(seq 1 "$k"); do
    netlab_bg "l$i" "$work/curl$i.log" curl -s -o /dev/null -w '%{time_total}\n' "http://$sip:8080/fan/model.gguf"
    pids+=("$NETLAB_LAST_PID")
  done
  for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
  stop_pid "$NGINX_PID"
  local last; last=$(cat "$work"/curl*.log | sort -n | tail -1)
  echo "one HTTP origin (nginx on the seeder's host, $k curls at once): last done at ${last} s = $(pyc "print(f'{$last/$ideal:.2f}')") x S/U"
  rm -f "$work"/curl*.log
}

case_fan() {
  echo
  echo "== 3. fan-out: 1 seeder + N leechers, every link ${U} Mbit/s both ways, ${FAN_MB} MiB; leechers told only the seeder (+ LSD)"
  fan_release
  local k cpu_rows=()
  for k in $FAN_NS; do
    fan_lab "$k" "$k" 1
    run_fan "modelswarm, $k leechers" "$k" "$k"
    cpu_rows+=("$k $FAN_SEEDER_CPU $FAN_SEEDER_HWM")
    if [ "$k" = "$N" ] && [ "${BASELINES:-1}" = 1 ]; then
      run_http_fan "$k"
      run_stock_fan "$k"
    fi
    lab_down
  done
  echo
  echo "== 6. the seeder against the number of leechers (from the runs above)"
  printf '%s\n' "${cpu_rows[@]}" | pyc "
import sys
rows=[tuple(float(x) for x in l.split()) for l in sys.stdin if l.strip()]
for k,c,h in rows: print(f'  {k:.0f} leechers: seeder CPU {c:.1f} s, anonymous memory {h/1024:.1f} MiB')
if len(rows)>=2:
    (k0,c0,h0),(k1,c1,h1)=rows[0],rows[-1]
    print(f'  per extra leecher: {(c1-c0)/(k1-k0):.2f} s CPU, {(h1-h0)/1024/(k1-k0):.2f} MiB RSS')"
}
case_mixed() {
  echo
  echo "== 4. mixed links: $((N / 2)) leechers at ${U} Mbit/s, $((N / 2)) at $(pyc "print($U/10)") Mbit/s"
  fan_release
  fan_lab "$N" "$((N / 2))" 10
  local save=$RUN_TIMEOUT
  # The slow ones need 10x S/U; the fast ones are what is measured: stop once they are done.
  RUN_TIMEOUT=$(pyc "print(int($(stat -c %s "$FAN_REL/model.gguf")*8/($U*1e6)*3))")
  run_fan "modelswarm, mixed" "$N" "$((N / 2))"
  RUN_TIMEOUT=$save
  lab_down
}
case_churn() {
  echo
  echo "== 5. churn: $((N / 4)) of $N leechers killed mid-transfer and restarted"
  fan_release
  # SIGKILL loses what libtorrent had verified but not yet written (its write buffer): those
  # pieces are downloaded again. SIGTERM saves resume data after a flush: nothing should be.
  for CHURN_SIGNAL in KILL TERM; do
    fan_lab "$N" "$N" 1
    rm -f "$work"/l*.first.log
    run_fan "modelswarm, churn (SIG$CHURN_SIGNAL)" "$N" "$N" "$((N / 4))"
    churn_check
    lab_down
  done
}

echo "modelswarm netlab benchmarks, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $CASES; do
  case $c in
    1) case_pair ;;
    2) case_internet ;;
    3) case_fan ;;
    4) case_mixed ;;
    5) case_churn ;;
    *) echo "unknown case $c" >&2; exit 2 ;;
  esac
done
