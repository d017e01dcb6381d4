#!/usr/bin/env bash
# Pack and verify speed on a warm page cache, against `openssl dgst -sha256` (one thread) over
# the same files in the same run. Targets: verify >= 1.6x, pack >= 0.6x the openssl rate.
#   BENCH_MIB (default 2048)  size of the release
#   BUILD_DIR (default build) where modelswarm and tests/make_bench_gguf are built
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
mib=${BENCH_MIB:-2048}
ms="$build/cli/modelswarm"
gen="$build/tests/make_bench_gguf"
for f in "$ms" "$gen"; do
  [ -x "$f" ] || { echo "bench_release.sh: $f missing; build the modelswarm-cli and make_bench_gguf targets" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/modelswarm-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
export MODELSWARM_HOME="$work/home"
mkdir -p "$work/rel"
"$gen" "$work/rel/model-00001.gguf" $((mib / 2)) 32
"$gen" "$work/rel/model-00002.gguf" $((mib - mib / 2)) 48
"$ms" keygen --no-password -q -o "$work/key" >/dev/null
files=("$work"/rel/*.gguf)
bytes=$(cat "${files[@]}" | wc -c)   # also warms the page cache

now() { date +%s.%N; }
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
best() {  # best of 3 runs of "$@", in seconds
  local b=""
  for _ in 1 2 3; do
    local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now)
    b=$(awk -v a="$b" -v t="$(awk -v x="$t0" -v y="$t1" 'BEGIN{print y-x}')" 'BEGIN { if (a == "" || t < a) print t; else print a }')
  done
  echo "$b"
}

t_ssl=$(best openssl dgst -sha256 "${files[@]}")
t_pack=$(best "$ms" pack "$work/rel" --key "$work/key.key" --name bench --version 1 -q)
t_verify=$(best "$ms" verify "$work/rel" --trust "$work/key.pub" -q)
t_full=$(best "$ms" verify "$work/rel" --trust "$work/key.pub" --full -q)

r_ssl=$(rate "$t_ssl"); r_pack=$(rate "$t_pack"); r_verify=$(rate "$t_verify"); r_full=$(rate "$t_full")
ratio() { awk -v a="$1" -v b="$r_ssl" 'BEGIN { printf "%.2f", a / b }'; }
echo "release: $bytes bytes in ${#files[@]} GGUF files, $(nproc) cores"
printf '%-32s %8s MB/s\n' "openssl dgst -sha256 (1 thread)" "$r_ssl"
printf '%-32s %8s MB/s  %sx openssl (target >= 0.6)\n' "modelswarm pack" "$r_pack" "$(ratio "$r_pack")"
printf '%-32s %8s MB/s  %sx openssl (target >= 1.6)\n' "modelswarm verify" "$r_verify" "$(ratio "$r_verify")"
printf '%-32s %8s MB/s  %sx openssl\n' "modelswarm verify --full" "$r_full" "$(ratio "$r_full")"
