#!/usr/bin/env bash
# `modelswarm quantize` speed (GB/s of BF16 input) and peak memory (max RSS, /usr/bin/time -v)
# on a TinyLlama-shaped HF checkpoint (1.1 B parameters, 2.2 GB of BF16 in 3 shards), against
# reading the same shards with cat in the same run (page cache warm). Peak RSS is compared with
# the input and output sizes: streaming keeps it at a few chunks, far below either. When the
# engine accepts a checkpoint directory, the load-time int4 conversion is measured the same way.
#   BUILD_DIR (default build)  where modelswarm and tests/make_test_model are built
#   BENCH_TYPES (default "Q4_0 Q4_K Q8_0")
#   BENCH_LAYERS (default 22)  TinyLlama's depth; 11 still gives 1.15 GiB of BF16
#   BENCH_SMALL=1              a 4x smaller model (quick check; below the 1 GiB the issue asks for)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
ms="$build/cli/modelswarm"
gen="$build/tests/make_test_model"
for f in "$ms" "$gen" /usr/bin/time; do
  [ -x "$f" ] || { echo "bench_quantize.sh: $f missing (build modelswarm-cli and make_test_model; apt-get install time)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/modelswarm-bench-quantize-XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ "${BENCH_SMALL:-0}" = 1 ]; then
  shape=(--dim 1024 --layers 11 --heads 16 --kv-heads 4 --ffn 2816 --vocab 32000)
else
  shape=(--dim 2048 --layers ${BENCH_LAYERS:-22} --heads 32 --kv-heads 4 --ffn 5632 --vocab 32000)
fi
"$gen" --hf-dir "$work/hf" --seed 1 "${shape[@]}" --safetensors-dtype BF16 --shards 3 >/dev/null
in_bytes=$(cat "$work"/hf/*.safetensors | wc -c)   # also warms the page cache
threads=$(nproc)

now() { date +%s.%N; }
t0=$(now); cat "$work"/hf/*.safetensors >/dev/null; t1=$(now)
read_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
read_gbs=$(awk -v n="$in_bytes" -v s="$read_s" 'BEGIN { printf "%.2f", n / s / 1e9 }')
printf 'input: %.2f GiB BF16 safetensors (3 shards), %s threads; cat reads it at %s GB/s\n' \
  "$(awk -v n="$in_bytes" 'BEGIN { print n / 2^30 }')" "$threads" "$read_gbs"

# Runs "$@" under /usr/bin/time -v; sets secs (wall), cpu (user + system seconds) and rss_kib.
# CPU seconds matter on a shared machine, where wall time also counts waiting for a core.
measure() {
  /usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$work/time.txt")
  rss_kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
}

for type in ${BENCH_TYPES:-Q4_0 Q4_K Q8_0}; do
  out="$work/out-$type.gguf"
  measure "$ms" quantize "$work/hf" -o "$out" --type "$type" -q
  out_bytes=$(stat -c %s "$out")
  awk -v t="$type" -v n="$in_bytes" -v o="$out_bytes" -v s="$secs" -v u="$cpu" -v r="$rss_kib" -v c="$read_gbs" 'BEGIN {
    gbs = n / s / 1e9; rss = r * 1024
    printf "quantize %-5s %6.1f s wall  %5.2f GB/s of input (%.2fx cat)  %5.2f GB per CPU-second  output %6.0f MiB  peak RSS %5.0f MiB = %.3f x output, %.3f x input\n",
      t, s, gbs, gbs / c, n / u / 1e9, o / 2^20, rss / 2^20, rss / o, rss / n }'
  rm -f "$out"
done

# The engine's load-time conversion (int4 weights in memory), when eval accepts a directory.
if "$ms" eval --help 2>/dev/null | grep -q -- --tokens &&
   measure "$ms" eval "$work/hf" --tokens 1 -q 2>/dev/null; then
  "$ms" quantize "$work/hf" -o "$work/q.gguf" --type Q4_0 -q
  q_bytes=$(stat -c %s "$work/q.gguf")
  awk -v n="$in_bytes" -v o="$q_bytes" -v s="$secs" -v u="$cpu" -v r="$rss_kib" 'BEGIN {
    rss = r * 1024
    printf "load+eval Q4_0 from safetensors: %.1f s wall (%.2f GB/s of input, %.2f GB per CPU-second)  peak RSS %5.0f MiB = %.2f x the Q4_0 file, %.3f x input\n",
      s, n / s / 1e9, n / u / 1e9, rss / 2^20, rss / o, rss / n }'
fi
