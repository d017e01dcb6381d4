#!/usr/bin/env bash
# `modelswarm bench` on TinyLlama-1.1B-shaped models (dim 2048, 22 layers, ffn 5632, 32 heads,
# 4 KV heads, vocab 32000) written by make_test_model: Q4_0 with a Q6_K output matrix (as real
# Q4_0 files have) and Q4_K. Decode speed is set against the memory read bandwidth measured in
# the same run (a decode step reads every weight once), prefill against the measured peak int8
# rate. Targets: decode >= 80% of the bandwidth limit, prefill >= 50% of the int8 peak.
#   BUILD_DIR (default build)   where modelswarm and tests/make_test_model are built
#   BENCH_TYPES (default "Q4_0 Q4_K")
#   BENCH_PROMPT / BENCH_GEN    tokens (default 128 / 64)
#   BENCH_SMALL=1               a 4x smaller model (quick check)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
ms="$build/cli/modelswarm"
gen="$build/tests/make_test_model"
for f in "$ms" "$gen"; do
  [ -x "$f" ] || { echo "bench_infer.sh: $f missing (build modelswarm-cli and make_test_model)" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/modelswarm-bench-infer-XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ "${BENCH_SMALL:-0}" = 1 ]; then
  shape=(--dim 1024 --layers 11 --heads 16 --kv-heads 4 --ffn 2816 --vocab 32000)
else
  shape=(--dim 2048 --layers 22 --heads 32 --kv-heads 4 --ffn 5632 --vocab 32000)
fi
prompt=${BENCH_PROMPT:-128}
ngen=${BENCH_GEN:-64}

for type in ${BENCH_TYPES:-Q4_0 Q4_K}; do
  model="$work/tinyllama-$type.gguf"
  out_type=Q6_K
  "$gen" --gguf "$model" --seed 1 "${shape[@]}" --type "$type" --output-type "$out_type" >/dev/null
  "$ms" bench "$model" -p "$prompt" -n "$ngen" --json --quiet > "$work/$type.json"
  python3 - "$work/$type.json" "$type" "$(stat -c %s "$model")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t, size = sys.argv[2], int(sys.argv[3])
print(f"{t} (output Q6_K), {size/1e6:.0f} MB file, kernels {r['isa']}, {r['threads']} threads;"
      f" {r['weight_bytes_per_token']/1e6:.1f} MB of weights read per token")
print(f"  {'':34s}{'wall clock':>12s}{'CPU time':>12s}")
def row(name, key, scale=1.0, fmt="{:12.2f}"):
    v = r[key]
    print(f"  {name:34s}" + fmt.format(v['wall'] * scale) + fmt.format(v['cpu'] * scale))
row(f"prefill tokens/s ({r['prompt_tokens']} in one batch)", "prefill_tokens_per_s", fmt="{:12.1f}")
row(f"decode tokens/s ({r['gen_tokens']} tokens)", "decode_tokens_per_s")
row("memory read GB/s (measured)", "memory_read_bytes_per_s", 1e-9)
row("decode limit tokens/s", "decode_limit_tokens_per_s")
row("decode / bandwidth limit % (>=80)", "decode_bandwidth_share", 100, "{:12.1f}")
row("prefill int8 Gop/s", "prefill_int8_ops_per_s", 1e-9, "{:12.1f}")
row("peak int8 Gop/s (measured)", "peak_int8_ops_per_s", 1e-9, "{:12.1f}")
row("prefill / int8 peak % (>=50)", "prefill_peak_share", 100, "{:12.1f}")
PY
  rm -f "$model"
done
