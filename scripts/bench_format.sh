#!/usr/bin/env bash
# Format benchmarks, each against a baseline measured in the same run:
#   1. make_test_model writing a TinyLlama-shaped Q4_0 GGUF (1.1 B parameters), against copying
#      the same number of bytes with cp (pure I/O): the ratio is the cost of generating and
#      quantizing on top of writing.
#   2. `modelswarm inspect --json` on that file (headers only), against reading the whole file
#      once (cat > /dev/null from the page cache): how much faster than touching the data.
# Needs a Release build in build/ (or BUILD_DIR). Uses about 1.3 GB in TMPDIR.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
gen="$build/tests/make_test_model"
cli="$build/cli/modelswarm"
[ -x "$gen" ] && [ -x "$cli" ] || { echo "bench_format.sh: build first (cmake --build build)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-format-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
calc() { awk "BEGIN { print $1 }"; }

t0=$(now)
"$gen" --gguf "$tmp/tiny.gguf" --dim 2048 --layers 22 --heads 32 --kv-heads 4 --ffn 5632 \
  --vocab 32000 --context 2048 --type Q4_0 --output-type Q6_K >/dev/null
t1=$(now)
gen_s=$(elapsed "$t0" "$t1")
bytes=$(stat -c %s "$tmp/tiny.gguf")
t0=$(now)
cp "$tmp/tiny.gguf" "$tmp/copy.gguf" && sync "$tmp/copy.gguf"
t1=$(now)
cp_s=$(elapsed "$t0" "$t1")
rm -f "$tmp/copy.gguf"

cat "$tmp/tiny.gguf" >/dev/null  # warm the page cache for both sides of the comparison
runs=20
t0=$(now)
for _ in $(seq $runs); do "$cli" inspect "$tmp/tiny.gguf" --json >/dev/null; done
t1=$(now)
inspect_s=$(calc "$(elapsed "$t0" "$t1") / $runs")
t0=$(now)
for _ in $(seq $runs); do "$cli" --version >/dev/null; done
t1=$(now)
start_s=$(calc "$(elapsed "$t0" "$t1") / $runs")
t0=$(now)
for _ in $(seq $runs); do cat "$tmp/tiny.gguf" >/dev/null; done
t1=$(now)
read_s=$(calc "$(elapsed "$t0" "$t1") / $runs")

printf 'generate TinyLlama-shaped Q4_0 GGUF: %d bytes in %.2f s (%.0f MB/s); cp+sync of the same file %.2f s; ratio %.2fx\n' \
  "$bytes" "$gen_s" "$(calc "$bytes / $gen_s / 1000000")" "$cp_s" "$(calc "$gen_s / $cp_s")"
printf 'inspect --json: %.1f ms per run (process start-up alone %.1f ms); reading the file once (page cache) %.1f ms; inspect is %.0fx faster\n' \
  "$(calc "$inspect_s * 1000")" "$(calc "$start_s * 1000")" "$(calc "$read_s * 1000")" "$(calc "$read_s / $inspect_s")"
