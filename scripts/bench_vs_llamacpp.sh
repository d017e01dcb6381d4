#!/usr/bin/env bash
# modelswarm against llama.cpp on the same GGUF files, in the same run, on the same threads.
# llama.cpp comes from the npm package node-llama-cpp (prebuilt CPU libraries), installed into
# a scratch directory: a reference, not a dependency of modelswarm.
#
#   scripts/bench_vs_llamacpp.sh [MODEL.gguf ...]
#
# Without a model it writes TinyLlama-shaped ones (dim 2048, 22 layers, ffn 5632, 32 heads,
# 4 KV heads, vocab 32000) with tests/make_test_model: Q4_0 and Q4_K, each with a Q6_K output
# matrix as real files have. A llama.cpp mix (Q4_K_M, Q5_K_M, Q3_K_M, ...) in BENCH_TYPES is
# written as an HF checkpoint of that shape and converted by `modelswarm quantize --type`.
#
# Numerics first (on the model given, or for the models written here on 2 layers of the same
# shape: see below): both engines take the same prompt token ids; the greedy continuations must be
# identical and llama.cpp's top-TOP logits after the prompt must match modelswarm's within
# LOGIT_TOL (absolute; both engines quantize activations the same way, so most files agree to
# ~1e-4, F16/BF16 weights to ~0.01, and some prompts on Q8_0 weights differ by up to ~0.04;
# llama.cpp runs this check without flash attention, whose F16 sums alone move logits by ~1%). Then speed: for each engine in turn (alternating,
# RUNS times, best run kept) prompt tokens/s of one batch of 128 and of 512 tokens, and
# generated tokens/s after a 128-token prompt and at DEPTH tokens of context; llama.cpp with its
# default attention (LLAMACPP_REF_FA=on|off overrides), its decode steps each one call from
# Node into the library, as a program using llama.cpp makes them. Ratios are modelswarm / llama.cpp; above 1
# modelswarm is faster. The memory read bandwidth and peak int8 rate that modelswarm's bench
# measures in the same runs are printed beside them.
#
#   BUILD_DIR (default build)     modelswarm and tests/make_test_model
#   THREADS (2)  RUNS (3)  GEN (32 decode steps)  DEPTH (2048)  TOP (8)  LOGIT_TOL (0.05)
#   BENCH_TYPES ("Q4_0 Q4_K")     types or mixes of the models written when none is given
#   BENCH_SMALL=1                 small models and short runs (checks that the script works)
#   LLAMACPP_REF_DIR              where node-llama-cpp is installed (kept between runs)
#   LLAMACPP_REF_VERSION (3.22.1) the node-llama-cpp release (its llama.cpp build)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
ms="$build/cli/modelswarm"
gen="$build/tests/make_test_model"
threads=${THREADS:-2}
runs=${RUNS:-3}
ngen=${GEN:-32}
depth=${DEPTH:-2048}
top=${TOP:-8}
tol=${LOGIT_TOL:-0.05}
small=${BENCH_SMALL:-0}
prompts=(128 512)
if [ "$small" = 1 ]; then
  runs=${RUNS:-1} ngen=${GEN:-4} depth=${DEPTH:-160} prompts=(16 64)
fi
[ -x "$ms" ] || { echo "bench_vs_llamacpp.sh: $ms missing (build modelswarm-cli)" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "bench_vs_llamacpp.sh: node and npm are needed (scripts/setup.sh installs them)" >&2; exit 1; }

export LLAMACPP_REF_DIR=${LLAMACPP_REF_DIR:-${TMPDIR:-/tmp}/modelswarm-llamacpp-ref}
# The CPU build only (~85 MB): npm would add the CUDA and Vulkan builds as optional dependencies.
version=${LLAMACPP_REF_VERSION:-3.22.1}
if [ ! -f "$LLAMACPP_REF_DIR/node_modules/@node-llama-cpp/linux-x64/package.json" ]; then
  echo "installing node-llama-cpp $version into $LLAMACPP_REF_DIR ..." >&2
  mkdir -p "$LLAMACPP_REF_DIR"
  [ -f "$LLAMACPP_REF_DIR/package.json" ] || echo '{"name":"llamacpp-ref","private":true}' > "$LLAMACPP_REF_DIR/package.json"
  timeout 600 npm install --prefix "$LLAMACPP_REF_DIR" --no-audit --no-fund --loglevel=error --omit=optional \
    "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" >&2
fi
ref() { timeout 900 node "$here/scripts/llamacpp_ref.mjs" "$@"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/modelswarm-vs-llamacpp-XXXXXX")
trap 'rm -rf "$work"' EXIT

models=("$@")
numerics=("$@")  # the file each model's numerics are checked on
if [ ${#models[@]} -eq 0 ]; then
  [ -x "$gen" ] || { echo "bench_vs_llamacpp.sh: $gen missing (build make_test_model)" >&2; exit 1; }
  if [ "$small" = 1 ]; then
    layers=2 shape=(--dim 256 --heads 4 --kv-heads 2 --ffn 512 --vocab 1000 --context 1024)
  else
    layers=22 shape=(--dim 2048 --heads 32 --kv-heads 4 --ffn 5632 --vocab 32000 --context 4096)
  fi
  # write NAME LAYERS TYPE: $work/NAME.gguf; a mix (Q4_K_M...) by way of an HF checkpoint.
  write() {
    case $3 in
      Q[0-9]_K_[SML])
        "$gen" --hf-dir "$work/hf-$1" --seed 1 "${shape[@]}" --layers "$2" >/dev/null
        "$ms" quantize "$work/hf-$1" -o "$work/$1.gguf" --type "$3" --quiet
        rm -rf "$work/hf-$1" ;;
      *) "$gen" --gguf "$work/$1.gguf" --seed 1 "${shape[@]}" --layers "$2" --type "$3" --output-type Q6_K >/dev/null ;;
    esac
  }
  for type in ${BENCH_TYPES:-Q4_0 Q4_K}; do
    write "tinyllama-$type" "$layers" "$type"
    models+=("$work/tinyllama-$type.gguf")
    # Numerics on 2 layers of the same shape: in a deep random model, an activation that two
    # summation orders round to neighbouring int8 values is amplified layer after layer until
    # the engines part (22 layers: from the first tokens), while 1- and 2-layer models agree to
    # about 1e-5. A real model given on the command line is checked as it is.
    write "numerics-$type" 2 "$type"
    numerics+=("$work/numerics-$type.gguf")
  done
fi

status=0
for i in "${!models[@]}"; do
  model=${models[$i]} checked=${numerics[$i]}
  echo "== $(basename "$model") ($(($(stat -c %s "$model") / 1000000)) MB), $threads threads"
  [ "$checked" = "$model" ] || echo "  numerics on $(basename "$checked"): the same shape, 2 layers"

  # Numerics: the same token ids into both engines.
  ids=1,450,4996,17354,1701,432,29871,12,7,300,42,99
  if [ "$small" = 1 ]; then ids=1,45,499,173,17,432,291,12,7,300,42,99; fi
  "$ms" eval "$checked" --tokens "$ids" --top "$top" --threads "$threads" --json --quiet > "$work/ms_eval.json"
  "$ms" run "$checked" --tokens "$ids" --temp 0 -n 16 --ignore-eos --threads "$threads" --json --quiet > "$work/ms_run.json"
  ref numerics "$checked" --tokens "$ids" -n 16 --top "$top" --threads "$threads" > "$work/ref_num.json"
  python3 - "$work" "$tol" <<'PY' || status=1
import json, sys
w, tol = sys.argv[1], float(sys.argv[2])
ms_eval = json.load(open(f"{w}/ms_eval.json"))
ms_greedy = json.load(open(f"{w}/ms_run.json"))["tokens"]
ref = json.load(open(f"{w}/ref_num.json"))
ms_top = {t["id"]: t["logit"] for t in ms_eval["positions"][-1]["top"]}
ref_top = {t["id"]: t["logit"] for t in ref["top"]}
same_top = [i for i in ref_top if i in ms_top]
diff = max((abs(ms_top[i] - ref_top[i]) for i in same_top), default=float("inf"))
agree = next((k for k, (a, b) in enumerate(zip(ms_greedy, ref["greedy"])) if a != b), min(len(ms_greedy), len(ref["greedy"])))
same_best = ms_eval["positions"][-1]["top"][0]["id"] == ref["top"][0]["id"]
ok_logits = same_best and diff <= tol
ok_greedy = ms_greedy == ref["greedy"]
print(f"  top-{len(ref_top)} logits after the prompt: same best token {same_best}, ids in both {len(same_top)}/{len(ref_top)},"
      f" max |difference| {diff:.4f} (tolerance {tol}) {'ok' if ok_logits else 'FAIL'}")
print(f"  greedy tokens: {agree}/{len(ref['greedy'])} identical {'ok' if ok_greedy else 'FAIL'}")
if not ok_greedy:
    print(f"    modelswarm {ms_greedy}\n    llama.cpp  {ref['greedy']}")
sys.exit(0 if ok_logits and ok_greedy else 1)
PY

  # Speed, alternating engines; each run writes one JSON line per measurement.
  : > "$work/speed.jsonl"
  for ((r = 1; r <= runs; ++r)); do
    for p in "${prompts[@]}"; do
      n=$ngen
      [ "$p" = "${prompts[0]}" ] || n=1  # the longer prompt measures prefill only
      "$ms" bench "$model" -p "$p" -n "$n" --threads "$threads" --json --quiet |
        python3 -c 'import json,sys; r=json.load(sys.stdin); r["engine"]="ms"; print(json.dumps(r))' >> "$work/speed.jsonl"
      ref bench "$model" -p "$p" -n "$n" --threads "$threads" |
        python3 -c 'import json,sys; r=json.load(sys.stdin); r["engine"]="ref"; print(json.dumps(r))' >> "$work/speed.jsonl"
    done
    "$ms" bench "$model" -p "${prompts[0]}" -n "$ngen" -d "$depth" --threads "$threads" --json --quiet |
      python3 -c 'import json,sys; r=json.load(sys.stdin); r["engine"]="ms"; print(json.dumps(r))' >> "$work/speed.jsonl"
    ref bench "$model" -p "${prompts[0]}" -n "$ngen" -d "$depth" --threads "$threads" |
      python3 -c 'import json,sys; r=json.load(sys.stdin); r["engine"]="ref"; print(json.dumps(r))' >> "$work/speed.jsonl"
  done
  python3 - "$work/speed.jsonl" "${prompts[0]}" "$runs" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
short, runs = int(sys.argv[2]), int(sys.argv[3])
def rate(r, key):  # modelswarm gives wall-clock and CPU-time rates; wall clock is what llama.cpp's is
    v = r[key]
    return v["wall"] if isinstance(v, dict) else v
def best(engine, key, **match):
    vals = [rate(r, key) for r in rows if r["engine"] == engine and all(r[k] == v for k, v in match.items())]
    return max(vals)
print(f"  best of {runs} alternating run(s)       modelswarm   llama.cpp   ratio")
lines = []
for p in sorted({r["prompt_tokens"] for r in rows}):
    lines.append((f"prefill tokens/s ({p} tokens)", "prefill_tokens_per_s", dict(prompt_tokens=p, decode_depth=p)))
lines.append((f"decode tokens/s (after {short})", "decode_tokens_per_s", dict(prompt_tokens=short, decode_depth=short)))
depths = sorted({r["decode_depth"] for r in rows} - {r["prompt_tokens"] for r in rows})
for d in depths:
    lines.append((f"decode tokens/s (at {d} context)", "decode_tokens_per_s", dict(decode_depth=d)))
for name, key, m in lines:
    a, b = best("ms", key, **m), best("ref", key, **m)
    print(f"  {name:34s}{a:10.1f}{b:12.1f}{a / b:8.2f}x")
ms = [r for r in rows if r["engine"] == "ms"]
bw = [r["memory_read_bytes_per_s"]["wall"] / 1e9 for r in ms]
peak = [r["peak_int8_ops_per_s"]["wall"] / 1e9 for r in ms]
wpt = ms[0]["weight_bytes_per_token"]
print(f"  machine, measured by modelswarm bench in the same runs: memory read {min(bw):.1f}-{max(bw):.1f} GB/s"
      f" (decode limit {max(bw) * 1e9 / wpt:.1f} tokens/s at {wpt / 1e6:.1f} MB per token),"
      f" int8 peak {min(peak):.0f}-{max(peak):.0f} Gop/s")
PY
done
exit $status
