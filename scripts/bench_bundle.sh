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
now() { date +%s.%N; }
json_field() { sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p"; }

mkdir -p "$work/rel"
"$tools/make_bf16_weights" "$work/rel/model.safetensors" "$mib" >/dev/null
"$cli" keygen -o "$work/key" --no-password >/dev/null 2>&1
"$cli" pack "$work/rel" -k "$work/key.key" -n bench-bf16 -V 1 --quiet >/dev/null
release_bytes=$(stat -c %s "$work/rel/model.safetensors")

# Baseline: plain zstd -3 of the same files, multithreaded like the bundle.
t0=$(now); zstd -q -3 -T0 -f "$work/rel/model.safetensors" -o "$work/plain.zst"; t1=$(now)
zstd_bytes=$(stat -c %s "$work/plain.zst")
t2=$(now); zstd -q -d -T0 -f "$work/plain.zst" -o "$work/plain.out"; t3=$(now)
rm -f "$work/plain.out"

exp=$("$cli" export "$work/rel" -o "$work/rel.msb" --json)
bundle_bytes=$(echo "$exp" | json_field bytes_out)
export_s=$(echo "$exp" | json_field seconds)
sync
imp=$("$cli" import "$work/rel.msb" -o "$work/imported" --trust "$work/key.pub" --json)
import_s=$(echo "$imp" | json_field seconds)
cmp "$work/rel/model.safetensors" "$work/imported/model.safetensors"

awk -v r="$release_bytes" -v z="$zstd_bytes" -v b="$bundle_bytes" -v zc="$t0" -v zc1="$t1" \
    -v zd="$t2" -v zd1="$t3" -v es="$export_s" -v is="$import_s" -v cores="$(nproc)" 'BEGIN {
  printf "bench_bundle: BF16 safetensors release of %.0f MB, %d cores\n", r/1e6, cores
  printf "  release                    %12d bytes\n", r
  printf "  zstd -3 -T0 (baseline)     %12d bytes  ratio %.3f  compress %6.0f MB/s  decompress %6.0f MB/s\n", z, r/z, r/1e6/(zc1-zc), r/1e6/(zd1-zd)
  printf "  bundle (export/import)     %12d bytes  ratio %.3f  export   %6.0f MB/s  import     %6.0f MB/s\n", b, r/b, r/1e6/es, r/1e6/is
  printf "  bundle vs release: %.3fx smaller (target >= 1.35: %s)\n", r/b, (r/b >= 1.35 ? "met" : "MISSED")
  printf "  bundle vs zstd -3: %.1f%% smaller (target >= 8%%: %s)\n", (1-b/z)*100, ((1-b/z) >= 0.08 ? "met" : "MISSED")
  printf "  import: %.2f GB/s of release bytes, verified (target >= 1 GB/s: %s); zstd -d alone: %.2f GB/s\n", r/1e9/is, (r/1e9/is >= 1 ? "met" : "MISSED"), r/1e9/(zd1-zd)
}'
echo
"$tools/bundle_variants" "$work/rel/model.safetensors" 128
