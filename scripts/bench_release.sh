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

rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
# best of 3 runs of "$@": prints "wall_seconds cpu_seconds" of the fastest run.
best() {
  local b="" TIMEFORMAT='%R %U %S' line
  for _ in 1 2 3; do
    line=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
    b=$(awk -v a="$b" -v l="$line" 'BEGIN { split(l, t, " "); w = t[1]; c = t[2] + t[3];
          if (a == "") { print w, c; exit } split(a, o, " "); if (w < o[1]) print w, c; else print a }')
  done
  echo "$b"
}

load=$(cut -d' ' -f1 /proc/loadavg)
read -r t_ssl c_ssl < <(best openssl dgst -sha256 "${files[@]}")
read -r t_pack c_pack < <(best "$ms" pack "$work/rel" --key "$work/key.key" --name bench --version 1 -q)
read -r t_verify c_verify < <(best "$ms" verify "$work/rel" --trust "$work/key.pub" -q)
read -r t_full c_full < <(best "$ms" verify "$work/rel" --trust "$work/key.pub" --full -q)

r_ssl=$(rate "$t_ssl"); r_pack=$(rate "$t_pack"); r_verify=$(rate "$t_verify"); r_full=$(rate "$t_full")
ratio() { awk -v a="$1" -v b="$r_ssl" 'BEGIN { printf "%.2f", a / b }'; }
# CPU seconds per GB: how much work each tool does per byte, independent of other load.
cpg() { awk -v c="$1" -v b="$bytes" 'BEGIN { printf "%.2f", c / (b / 1e9) }'; }
echo "release: $bytes bytes in ${#files[@]} GGUF files, $(nproc) cores, load average $load at start"
printf '%-28s %6s MB/s                        %s CPU s/GB\n' "openssl dgst -sha256 (1 thr)" "$r_ssl" "$(cpg "$c_ssl")"
printf '%-28s %6s MB/s  %sx openssl (>= 0.6)  %s CPU s/GB (3 hashes/byte)\n' "modelswarm pack" "$r_pack" "$(ratio "$r_pack")" "$(cpg "$c_pack")"
printf '%-28s %6s MB/s  %sx openssl (>= 1.6)  %s CPU s/GB (1 hash/byte)\n' "modelswarm verify" "$r_verify" "$(ratio "$r_verify")" "$(cpg "$c_verify")"
printf '%-28s %6s MB/s  %sx openssl           %s CPU s/GB (2 hashes/byte)\n' "modelswarm verify --full" "$r_full" "$(ratio "$r_full")" "$(cpg "$c_full")"
