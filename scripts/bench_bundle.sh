#!/usr/bin/env bash
# Offline bundle benchmark: generates a BF16 safetensors release (gaussian weights with per-row
# scales, default 1100 MiB), packs it, and compares in the same run
#   - bundle size against the release and against plain `zstd -3` of the same files,
#   - export speed against `zstd -3 -T0`, import speed (decode + SHA-256 of every chunk + write)
#     against `zstd -d` of the plain .zst files (no verification),
# then prints the table of compression variants the defaults were chosen from.
# Usage: scripts/bench_bundle.sh   (env: BUILD_DIR, BENCH_BUNDLE_MIB, KEEP=1 keeps the work dir)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
cli=$build/cli/modelswarm
tools=$build/tests
mib=${BENCH_BUNDLE_MIB:-1100}
cmake --build "$build" -j"$(nproc)" --target modelswarm-cli make_bf16_weights bundle_variants >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/bench_bundle.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
export MODELSWARM_HOME=$work/home
json_field() { sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p"; }

mkdir -p "$work/rel"
"$tools/make_bf16_weights" "$work/rel/model.safetensors" "$mib" >/dev/null
"$cli" keygen -o "$work/key" --no-password >/dev/null 2>&1
"$cli" pack "$work/rel" -k "$work/key.key" -n bench-bf16 -V 1 --quiet >/dev/null
release_bytes=$(stat -c %s "$work/rel/model.safetensors")

# `timed VAR cmd...`: runs cmd (stdout kept in $out), sets VAR_real, VAR_cpu (user+sys seconds).
# CPU seconds matter on a shared machine: wall time there says more about the neighbours.
timed() {
  local var=$1 t; shift
  t=$( { TIMEFORMAT='%R %U %S'; time "$@" >"$work/out" 2>/dev/null; } 2>&1 )
  out=$(cat "$work/out")
  read -r r u s <<<"$t"
  printf -v "${var}_real" %s "$r"
  printf -v "${var}_cpu" %s "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
}

# Baseline: plain zstd -3 of the same files, multithreaded like the bundle.
sync; timed zc zstd -q -3 -T0 -f "$work/rel/model.safetensors" -o "$work/plain.zst"
zstd_bytes=$(stat -c %s "$work/plain.zst")
sync; timed zd zstd -q -d -T0 -f "$work/plain.zst" -o "$work/plain.out"
rm -f "$work/plain.out"

sync; timed ex "$cli" export "$work/rel" -o "$work/rel.msb" --json
bundle_bytes=$(echo "$out" | json_field bytes_out)
sync; timed im "$cli" import "$work/rel.msb" -o "$work/imported" --trust "$work/key.pub" --json
sync_s=$(echo "$out" | json_field sync_seconds)
cmp "$work/rel/model.safetensors" "$work/imported/bench-bf16/model.safetensors"
rm -rf "$work/imported"
sync; timed in "$cli" import "$work/rel.msb" -o "$work/imported" --trust "$work/key.pub" --json --no-sync
cmp "$work/rel/model.safetensors" "$work/imported/bench-bf16/model.safetensors"

awk -v r="$release_bytes" -v z="$zstd_bytes" -v b="$bundle_bytes" -v cores="$(nproc)" \
    -v zc="$zc_real" -v zcc="$zc_cpu" -v zd="$zd_real" -v zdc="$zd_cpu" -v ex="$ex_real" -v exc="$ex_cpu" \
    -v im="$im_real" -v imc="$im_cpu" -v in_="$in_real" -v inc="$in_cpu" -v sy="$sync_s" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "bench_bundle: BF16 safetensors release of %.0f MB, %d cores, load average %s\n", r/1e6, cores, load
  printf "  %-28s %12s %7s %22s %22s\n", "", "bytes", "ratio", "wall MB/s (s)", "CPU s per GB"
  printf "  %-28s %12d %7s\n", "release", r, ""
  printf "  %-28s %12d %7.3f %14.0f (%5.2f) %22.2f\n", "zstd -3 -T0 (baseline)", z, r/z, r/1e6/zc, zc, zcc/(r/1e9)
  printf "  %-28s %12s %7s %14.0f (%5.2f) %22.2f\n", "zstd -d -T0 (no checks)", "", "", r/1e6/zd, zd, zdc/(r/1e9)
  printf "  %-28s %12d %7.3f %14.0f (%5.2f) %22.2f\n", "modelswarm export", b, r/b, r/1e6/ex, ex, exc/(r/1e9)
  printf "  %-28s %12s %7s %14.0f (%5.2f) %22.2f\n", "modelswarm import", "", "", r/1e6/im, im, imc/(r/1e9)
  printf "  %-28s %12s %7s %14.0f (%5.2f) %22.2f\n", "modelswarm import --no-sync", "", "", r/1e6/in_, in_, inc/(r/1e9)
  printf "  bundle vs release: %.3fx smaller (target >= 1.35: %s)\n", r/b, (r/b >= 1.35 ? "met" : "MISSED")
  printf "  bundle vs zstd -3: %.1f%% smaller (target >= 8%%: %s)\n", (1-b/z)*100, ((1-b/z) >= 0.08 ? "met" : "MISSED")
  printf "  import: %.2f GB/s wall with fdatasync (%.2f s of it waiting for the disk), %.2f GB/s without;\n", r/1e9/im, sy, r/1e9/in_
  printf "          CPU bound on %d idle cores: %.2f GB/s (target >= 1 GB/s: %s)\n", cores, cores/(inc/(r/1e9)), (r/1e9/in_ >= 1 || cores/(inc/(r/1e9)) >= 1 ? "met" : "MISSED")
}'
echo
"$tools/bundle_variants" "$work/rel/model.safetensors" 128
