#!/usr/bin/env bash
# The gateway against nginx, same file, same run: a SIZE_MB file of a verified local release
# downloaded by curl through `modelswarm serve` (resolve/main/...) and straight from nginx
# (sendfile on), RUNS times each, alternating, page cache warm. Prints the median rate of
# each and their ratio (target: gateway >= 0.9x nginx).
# Usage: scripts/bench_gateway.sh [build-dir]    env: SIZE_MB=1024 RUNS=5
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$here/build}
ms=$build/cli/modelswarm
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-5}
work=$(mktemp -d /tmp/modelswarm-bench-gw-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export MODELSWARM_HOME=$work/home
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() {  # url: up to 30 s
  for _ in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "bench_gateway: $1 does not answer" >&2; exit 1
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# A release packed here is verified and has its seed record: the gateway serves it at once.
mkdir -p "$work/store/Bench"
head -c "$((SIZE_MB << 20))" /dev/urandom >"$work/store/Bench/model.bin"
"$ms" keygen -o "$work/pub" --no-password >/dev/null 2>&1
"$ms" pack "$work/store/Bench" --key "$work/pub.key" --name Bench --version 1 -q >/dev/null
cat >"$work/catalogue.json" <<JSON
{"format": "modelswarm.catalogue/1",
 "repos": {"bench/model": {"trust": "$(tail -1 "$work/pub.pub")",
   "releases": [{"version": 1, "source": "store/Bench/.modelswarm/release.torrent", "dest": "store"}]}}}
JSON

gw_port=$(free_port)
"$ms" serve --catalogue "$work/catalogue.json" --listen "127.0.0.1:$gw_port" --swarm-listen 127.0.0.1:0 \
  --profile lan --no-dht --no-lsd -q 2>"$work/serve.err" &
pids+=($!)
ng_port=$(free_port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; client_body_temp_path $work/nginx/tmp;
  server { listen 127.0.0.1:$ng_port; root $work/store; } }
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
gw_url="http://127.0.0.1:$gw_port/bench/model/resolve/main/model.bin"
ng_url="http://127.0.0.1:$ng_port/Bench/model.bin"
wait_http "$gw_url"
wait_http "$ng_url"
cat "$work/store/Bench/model.bin" >/dev/null  # warm the page cache for both

: >"$work/gw" ; : >"$work/ng"
for i in $(seq 1 "$RUNS"); do
  curl -s -o /dev/null -w '%{speed_download}\n' "$ng_url" >>"$work/ng"
  curl -s -o /dev/null -w '%{speed_download}\n' "$gw_url" >>"$work/gw"
done
cmp <(curl -s "$gw_url") "$work/store/Bench/model.bin" || { echo "bench_gateway: bytes differ" >&2; exit 1; }
gw=$(median <"$work/gw")
ng=$(median <"$work/ng")
awk -v g="$gw" -v n="$ng" -v s="$SIZE_MB" -v r="$RUNS" 'BEGIN {
  printf "%d MiB file, curl on loopback, median of %d runs each, page cache warm\n", s, r
  printf "nginx (sendfile)        %8.0f MB/s\n", n / 1e6
  printf "modelswarm serve        %8.0f MB/s\n", g / 1e6
  printf "ratio                   %8.2fx nginx\n", g / n }'
echo "runs (bytes/s): nginx $(tr '\n' ' ' <"$work/ng"); gateway $(tr '\n' ' ' <"$work/gw")"
