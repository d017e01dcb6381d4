#!/usr/bin/env bash
# Swarm benchmarks on loopback, each against a baseline measured in the same run.
#  1. one seeder -> one leecher of a SIZE_MB release, vs nginx -> curl of the same bytes;
#     variants: disk back-end (mmap/posix), transport (tcp/uTP), profile.
#  2. fan-out: a seeder capped at UP_MB MiB/s, N leechers, FAN_MB release: time for the last
#     leecher vs the ideal S/U (and N*S/U, what a server would need); variants of the seeding
#     strategy.
# Usage: scripts/bench_swarm.sh [build-dir]
#   env: SIZE_MB=1024 FAN_MB=256 UP_MB=20 N=6 PARTS="1 2" FETCH_TIMEOUT=300 (seconds per fetch)
#        RUNS=3 (part 1: per variant RUNS fetches, each after an nginx -> curl run; ratio of the medians)
#        BASELINE_MS=path/to/other/modelswarm (part 1 measures it too, for a before/after ratio)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$here/build}
ms=$build/cli/modelswarm
SIZE_MB=${SIZE_MB:-1024}
FAN_MB=${FAN_MB:-256}
UP_MB=${UP_MB:-20}
N=${N:-6}
PARTS=${PARTS:-"1 2"}
FETCH_TIMEOUT=${FETCH_TIMEOUT:-300}
work=$(mktemp -d /tmp/modelswarm-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# The publisher's state; every fetching process gets its own (another machine, in effect):
# sharing it would let fetch copy the chunks from the publisher's registered release instead
# of downloading them.
export MODELSWARM_HOME=$work/home

now() { date +%s.%N; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_listen() {  # file -> port
  # Only a whole line counts: the event may be half written when the file is read.
  local line='"event":"listening".*"port":[0-9]+}'
  for _ in $(seq 1 300); do
    if grep -qE "$line" "$1" 2>/dev/null; then
      grep -m1 -oE "$line" "$1" | grep -oE '"port":[0-9]+' | cut -d: -f2
      return
    fi
    sleep 0.05
  done
  echo "no listening event in $1" >&2
  exit 1
}
# Flags every process gets; each variant adds its --profile (CLI11 refuses a flag given twice).
base=(--json --listen 127.0.0.1:0 --no-lsd --no-dht)
lan=("${base[@]}" --profile lan)

"$ms" keygen -o "$work/key" --no-password >/dev/null

# A GGUF of incompressible 32 MiB tensors, as model releases are: one signed chunk per tensor.
gen=$build/tests/make_bench_gguf
[ -x "$gen" ] || { echo "bench_swarm.sh: $gen missing; build the make_bench_gguf target" >&2; exit 1; }
make_release() {  # name size_mb piece [pack flags...] -> dir
  local dir=$work/pub/$1
  mkdir -p "$dir"
  "$gen" "$dir/model.gguf" "$2" 32
  "$ms" pack "$dir" --key "$work/key.key" --name "$1" --version 1 --piece-size "$3" "${@:4}" >/dev/null
  echo "$dir"
}

if [[ " $PARTS " == *" 1 "* ]]; then
echo "== 1. one seeder -> one leecher, ${SIZE_MB} MiB, loopback"
rel=$(make_release big "$SIZE_MB" 4M)
bytes=$(stat -c %s "$rel/model.gguf")

# Baseline: nginx -> curl of the same file, to a file on the same disk.
nport=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1;
pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; server { listen 127.0.0.1:$nport; root $work/pub; } }
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" & pids+=($!)
sleep 0.5
rate() { python3 -c "print(f'{$1/($3-$2)/1e6:.0f}')"; }
# Every timed run starts from the same state: the last run's output deleted and the dirty pages
# of everything written so far on disk, the source file read into the page cache. Without this
# a run late in the script pays for the writeback of the earlier ones (the kernel throttles
# writers once a few GiB are dirty), and curl, which ran first, never did.
settle() {
  rm -rf "$work/out" "$work/fhome" "$work/curl.out"
  sync
  cat "$rel/model.gguf" > /dev/null
}
curl_run() {  # -> MB/s
  settle
  local t0 t1
  t0=$(now); curl -s -o "$work/curl.out" "http://127.0.0.1:$nport/$(basename "$rel")/model.gguf"; t1=$(now)
  rate "$bytes" "$t0" "$t1"
}

run_pair() {  # label seed-flags... -- fetch-flags...   (RUNS fetches, a fresh seeder each)
  local label=$1; shift
  local sflags=() fflags=()
  while [ "$1" != "--" ]; do sflags+=("$1"); shift; done; shift
  fflags=("$@")
  local rates=() curls=() run
  for run in $(seq 1 "${RUNS:-3}"); do
    # nginx -> curl, then the fetch: the baseline alternates with the case it is the baseline of.
    curls+=("$(curl_run)")
    settle
    "${BIN:-$ms}" seed "$rel" "${base[@]}" "${sflags[@]}" > "$work/seed.log" 2>&1 & local sp=$!; pids+=($sp)
    local port; port=$(wait_listen "$work/seed.log")
    local t0 t2
    t0=$(now)
    local rc=0
    MODELSWARM_HOME=$work/fhome timeout "$FETCH_TIMEOUT" "${BIN:-$ms}" fetch "$rel/.modelswarm/release.torrent" --trust "$work/key.pub" \
        -o "$work/out" --peer "127.0.0.1:$port" "${base[@]}" "${fflags[@]}" > "$work/fetch.log" 2>&1 || rc=$?
    t2=$(now)
    kill "$sp"; wait "$sp" 2>/dev/null || true
    if [ "$rc" -ne 0 ]; then
      echo "$label: fetch failed (exit $rc$([ "$rc" -eq 124 ] && echo ", over ${FETCH_TIMEOUT} s")): $(tail -c 300 "$work/fetch.log")"
      return
    fi
    rates+=("$(rate "$bytes" "$t0" "$t2")")
  done
  # Medians: a fetch's time is sometimes bimodal (a reconnect or a status tick landing early).
  python3 -c "
import statistics, sys
r = [int(x) for x in sys.argv[1].split()]; c = [int(x) for x in sys.argv[2].split()]
m, n = statistics.median(r), statistics.median(c)
print(f'$label: fetch (metadata + transfer + checks) median {m:.0f} MB/s, nginx -> curl median {n:.0f} MB/s in the same runs: {m/n:.2f} x nginx (fetch runs: {sys.argv[1]}; curl runs: {sys.argv[2]})')" "${rates[*]}" "${curls[*]}"
}
# BASELINE_MS: another build of modelswarm, measured in the same run (before/after a change).
if [ -n "${BASELINE_MS:-}" ]; then
  BIN=$BASELINE_MS run_pair "baseline build, lan profile" --profile lan -- --profile lan
fi
run_pair "lan profile              " --profile lan -- --profile lan
run_pair "posix disk I/O           " --profile lan --disk-io posix -- --profile lan --disk-io posix
run_pair "tcp+uTP                " --profile lan --transport both -- --profile lan --transport both
run_pair "internet profile (prefer-tcp, default buffers)" --profile internet -- --profile internet
# The same bytes in a hybrid torrent: both sides also compute SHA-1 v1 piece hashes.
v2rel=$rel
rel=$(make_release big-hybrid "$SIZE_MB" 4M --hybrid)
run_pair "hybrid v1+v2 torrent     " --profile lan -- --profile lan
rm -rf "$rel"; rel=$v2rel

fi

if [[ " $PARTS " == *" 2 "* ]]; then
echo
echo "== 2. fan-out: seeder capped at ${UP_MB} MiB/s, ${N} leechers, ${FAN_MB} MiB"
fan=$(make_release fan "$FAN_MB" 1M)
ideal=$(python3 -c "print(f'{$FAN_MB/$UP_MB:.1f}')")
echo "S/U = ${ideal} s; N*S/U = $(python3 -c "print(f'{$N*$FAN_MB/$UP_MB:.1f}')") s"
run_fan() {  # label seed-flags...
  local label=$1; shift
  "$ms" seed "$fan" "${lan[@]}" --upload-limit "${UP_MB}M" --limit-local "$@" > "$work/fseed.log" 2>&1 & local sp=$!; pids+=($sp)
  local port; port=$(wait_listen "$work/fseed.log")
  local peers=(--peer "127.0.0.1:$port") lp=()
  rm -rf "$work/fan-out" "$work"/lhome*
  local t0; t0=$(now)
  for i in $(seq 1 "$N"); do
    MODELSWARM_HOME=$work/lhome$i timeout "$FETCH_TIMEOUT" "$ms" fetch "$fan/.modelswarm/release.torrent" --trust "$work/key.pub" -o "$work/fan-out/$i" \
        "${lan[@]}" "${peers[@]}" > "$work/leech$i.log" 2>&1 & lp+=($!); pids+=($!)
    peers+=(--peer "127.0.0.1:$(wait_listen "$work/leech$i.log")")
  done
  local failed=0
  for p in "${lp[@]}"; do wait "$p" || failed=$((failed + 1)); done
  local t1; t1=$(now)
  kill -INT "$sp"; wait "$sp" 2>/dev/null || true
  if [ "$failed" -gt 0 ]; then
    echo "$label: $failed leecher(s) failed: $(grep -h '"error"' "$work"/leech*.log | head -1 | cut -c1-300)"
    return
  fi
  local up; up=$(python3 - "$work/fseed.log" <<'PY'
import json,sys
ev=[json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
print(max([e.get('uploaded',0) for e in ev if e.get('event')=='progress'] or [0]))
PY
)
  python3 -c "
t=$t1-$t0; s=$FAN_MB/$UP_MB
print(f'$label: last leecher done in {t:.1f} s = {t/s:.2f} x S/U; seeder sent {$up/($FAN_MB*1048576):.2f} x S')"
}
run_fan "default (serve-once)                  "
# libtorrent's own strategies, each piece served to whoever asks:
run_fan "--no-serve-once (round-robin)         " --no-serve-once
run_fan "--no-serve-once --seed-choking fastest" --no-serve-once --seed-choking fastest
run_fan "--no-serve-once --seed-choking anti-leech" --no-serve-once --seed-choking anti-leech
run_fan "--no-serve-once --unchoke-slots 2     " --no-serve-once --unchoke-slots 2
run_fan "--super-seed                          " --super-seed
fi
