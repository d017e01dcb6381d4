// llama.cpp as a reference engine, through the prebuilt CPU libraries of the npm package
// node-llama-cpp (installed by scripts/bench_vs_llamacpp.sh or the llamacpp CTest, never a
// dependency of modelswarm). Prints one JSON object on stdout.
//
//   node llamacpp_ref.mjs load     MODEL
//   node llamacpp_ref.mjs numerics MODEL --tokens 1,2,3 [-n 16] [--top 8] [--threads 2]
//   node llamacpp_ref.mjs bench    MODEL [-p 128] [-n 32] [-d 0] [--threads 2]
//   node llamacpp_ref.mjs tokenize MODEL --texts FILE
//
// numerics: the greedy continuation of --tokens (n tokens) and the top logits after the prompt.
// bench: measures what `modelswarm bench` measures: prompt tokens/s of one batch of -p tokens
// from an empty context, then generated tokens/s of -n single-token steps that start with
// max(-p, -d) tokens in the context (filled untimed). Token ids follow bench's rule.
// tokenize: FILE holds a JSON array of strings; prints their token ids (special-token text
// parsed, no BOS added), one array per string.
// The package directory comes from LLAMACPP_REF_DIR (its node_modules holds node-llama-cpp).
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

function fail(msg) {
  process.stderr.write(`llamacpp_ref: ${msg}\n`);
  process.exit(2);
}

const [mode, modelPath, ...rest] = process.argv.slice(2);
if (!["load", "numerics", "bench", "tokenize"].includes(mode) || !modelPath)
  fail("usage: load|numerics|bench|tokenize MODEL [options]");
const opt = { threads: 2, p: 128, n: 32, d: 0, top: 8, tokens: "", texts: "" };
for (let i = 0; i < rest.length; i += 2) {
  const key = { "--threads": "threads", "-t": "threads", "-p": "p", "-n": "n", "-d": "d", "--top": "top",
                "--tokens": "tokens", "--texts": "texts" }[rest[i]];
  if (!key || rest[i + 1] === undefined) fail(`bad option ${rest[i]}`);
  opt[key] = key === "tokens" || key === "texts" ? rest[i + 1] : Number(rest[i + 1]);
}

const dir = process.env.LLAMACPP_REF_DIR;
if (!dir) fail("LLAMACPP_REF_DIR is not set");
const entry = createRequire(join(dir, "package.json")).resolve("node-llama-cpp");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);

// build "never": the prebuilt binaries only (nothing may be compiled or downloaded here).
const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, maxThreads: opt.threads,
                               logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });

const now = () => Number(process.hrtime.bigint()) / 1e9;
const argmax = (m) => [...m.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];

// flashAttention false: llama.cpp's CPU flash attention keeps F16 sums, which moves logits by
// ~1% against the engines' ordinary attention; numerics compare without it. bench uses
// llama.cpp's default unless LLAMACPP_REF_FA is "on" or "off".
async function context(size, batch, flashAttention) {
  return model.createContext({ contextSize: size, batchSize: batch, threads: { ideal: opt.threads, min: opt.threads },
                               sequences: 1, ignoreMemorySafetyChecks: true, flashAttention });
}

if (mode === "load") {
  console.log(JSON.stringify({ ok: true, train_context: model.trainContextSize }));
} else if (mode === "tokenize") {
  const { readFileSync } = await import("node:fs");
  const texts = JSON.parse(readFileSync(opt.texts, "utf8"));
  console.log(JSON.stringify(texts.map((t) => Array.from(model.tokenize(t, true)))));
} else if (mode === "numerics") {
  const prompt = opt.tokens.split(",").filter((s) => s !== "").map(Number);
  if (prompt.length === 0) fail("--tokens is empty");
  const ctx = await context(prompt.length + opt.n + 8, Math.max(prompt.length, 8), false);
  const seq = ctx.getSequence();
  // The prompt, asking for the raw logits after its last token.
  const items = prompt.map((t, i) => (i + 1 < prompt.length ? t :
    [t, { generateNext: { token: true, options: { temperature: 0 },
                          logits: { filter: { tokens: [], includeTop: opt.top } } } }]));
  const out = await seq.controlledEvaluate(items);
  const last = out[out.length - 1].next;
  const top = [...last.logits.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, opt.top)
    .map(([id, logit]) => ({ id, logit }));
  const greedy = [];
  let next = last.token;
  for (let i = 0; i < opt.n; ++i) {
    greedy.push(next);
    if (i + 1 === opt.n) break;
    const r = await seq.controlledEvaluate([[next, { generateNext: { token: true, options: { temperature: 0 } } }]]);
    next = r[0].next.token;
  }
  console.log(JSON.stringify({ top, greedy }));
} else {
  const vocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;
  if (!vocab) fail("the model has no token list");
  const bos = model.tokens.bos;
  const prompt = Array.from({ length: opt.p }, (_, i) => Number((1n + 7919n * BigInt(i)) % BigInt(vocab)));
  if (bos !== null && bos !== undefined) prompt[0] = bos;
  const depth = Math.max(opt.p, opt.d);
  const fa = { on: true, off: false }[process.env.LLAMACPP_REF_FA ?? ""] ?? "auto";
  const ctx = await context(depth + opt.n + 1, opt.p, fa);
  const seq = ctx.getSequence();
  const step = async (token) =>
    (await seq.controlledEvaluate([[token, { generateNext: { token: true, options: { temperature: 0 } } }]]))[0].next.token;
  // Warm-up: pages the weights in and lets llama.cpp size its buffers for both batch shapes
  // (its first batch of a shape costs far more than later ones); then an empty context.
  await seq.evaluateWithoutGeneratingNewTokens(prompt);
  await step(prompt[0]);
  await seq.clearHistory();

  let t0 = now();
  await seq.evaluateWithoutGeneratingNewTokens(prompt);
  const prefill = opt.p / (now() - t0);
  for (let pos = opt.p; pos < depth;) {
    const k = Math.min(opt.p, depth - pos);
    const fill = Array.from({ length: k }, (_, i) => Number((3n + 104729n * BigInt(pos + i)) % BigInt(vocab)));
    await seq.evaluateWithoutGeneratingNewTokens(fill);
    pos += k;
  }
  // Decode: one token per step, each chosen greedily from the step before (as bench does).
  let next = prompt[prompt.length - 1];
  t0 = now();
  for (let i = 0; i < opt.n; ++i) next = await step(next);
  const decode = opt.n / (now() - t0);
  console.log(JSON.stringify({ threads: opt.threads, flash_attention: ctx.flashAttention, prompt_tokens: opt.p, gen_tokens: opt.n, decode_depth: depth,
                               prefill_tokens_per_s: prefill, decode_tokens_per_s: decode }));
}
await model.dispose();
await llama.dispose();
