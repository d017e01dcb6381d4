// HF checkpoint directories in the engine: the same weights as safetensors (F32) and as GGUF
// (F32) give the same logits and greedy tokens; converted to Q4_0 at load time they give what
// the GGUF from `quantize` gives; the tokenizer from tokenizer.json encodes like the GGUF's;
// run / eval accept the directory; an unsupported tokenizer still runs --tokens.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "modelswarm/gguf.hpp"
#include "modelswarm/hf_checkpoint.hpp"
#include "modelswarm/hf_model.hpp"
#include "modelswarm/infer.hpp"
#include "generate_helpers.hpp"
#include "process.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
namespace fs = std::filesystem;

namespace {

void generate(std::vector<std::string> args) {
  args.insert(args.begin(), std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model");
  auto r = mstest::run(args, std::chrono::seconds(120));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

std::shared_ptr<const Model> must(Result<std::shared_ptr<const Model>> m) {
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  return std::move(m).value();
}

HfLoadOptions as(GgmlType t) {
  HfLoadOptions o;
  o.type = t;
  return o;
}

// Logits of every position of `tokens`, on 2 threads.
std::vector<float> logits(std::shared_ptr<const Model> m, const std::vector<int32_t>& tokens) {
  auto ctx = Context::create(m, ContextOptions{64, 2});
  REQUIRE(ctx.ok());
  auto l = (*ctx)->eval(tokens, true);
  REQUIRE(l.ok());
  return std::vector<float>(l->begin(), l->end());
}

using mstest::greedy;

uint64_t gguf_tensor_bytes(const fs::path& p) {
  auto g = read_gguf(p);
  REQUIRE(g.ok());
  uint64_t b = 0;
  for (const auto& t : g->tensors) b += t.size;
  return b;
}

// `quantize DIR --type F32` into `out`; the file's header.
GgufFile quantize_f32(const fs::path& hf, const fs::path& out) {
  auto r = mstest::run_cli({"quantize", hf.string(), "-o", out.string(), "--type", "F32", "-q"},
                           std::chrono::seconds(120));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto md = read_gguf(out);
  REQUIRE(md.ok());
  return std::move(md).value();
}

const std::vector<int32_t> kPrompt = {1, 300, 301, 17, 350, 42, 299, 7};

}  // namespace

TEST_CASE("llama, sharded F32 safetensors and F32 GGUF: identical logits and greedy tokens") {
  mstest::TempDir d;
  generate({"--gguf", (d / "m.gguf").string(), "--hf-dir", (d / "hf").string(), "--seed", "11",
            "--dim", "128", "--heads", "4", "--kv-heads", "2", "--ffn", "256", "--layers", "2",
            "--vocab", "400", "--shards", "3"});
  auto g = must(load_model(d / "m.gguf"));
  auto h = must(load_hf_model(d / "hf", as(GgmlType::F32)));
  CHECK(h->config().n_head_kv == 2);
  CHECK(h->config().rope_mode == RopeMode::normal);
  CHECK(h->weight_bytes() == g->weight_bytes());
  CHECK(logits(g, kPrompt) == logits(h, kPrompt));
  CHECK(greedy(g, kPrompt, 16) == greedy(h, kPrompt, 16));
}

TEST_CASE("qwen2, tied, byte-level BPE, F32: identical logits; tied output reuses the embeddings") {
  mstest::TempDir d;
  generate({"--gguf", (d / "m.gguf").string(), "--hf-dir", (d / "hf").string(), "--seed", "12",
            "--arch", "qwen2", "--tokenizer", "gpt2", "--tied", "--dim", "128", "--heads", "4",
            "--kv-heads", "1", "--ffn", "256", "--layers", "2", "--vocab", "400"});
  auto g = must(load_model(d / "m.gguf"));
  auto h = must(load_hf_model(d / "hf", as(GgmlType::F32)));
  CHECK(h->weights().tied_embeddings);
  CHECK(h->weights().output.data == h->weights().token_embd.data);
  CHECK(h->config().rope_mode == RopeMode::neox);
  CHECK(logits(g, kPrompt) == logits(h, kPrompt));
  CHECK(greedy(g, kPrompt, 16) == greedy(h, kPrompt, 16));
}

TEST_CASE("qwen3, QK-norm, 4 heads of 64 in 128: safetensors, the generated GGUF and quantize's F32 GGUF agree") {
  mstest::TempDir d;
  generate({"--gguf", (d / "m.gguf").string(), "--hf-dir", (d / "hf").string(), "--seed", "14",
            "--arch", "qwen3", "--tokenizer", "gpt2", "--dim", "128", "--heads", "4", "--head-dim", "64",
            "--kv-heads", "2", "--ffn", "256", "--layers", "2", "--vocab", "400"});
  auto g = must(load_model(d / "m.gguf"));
  auto h = must(load_hf_model(d / "hf", as(GgmlType::F32)));
  CHECK(h->config().arch == Architecture::qwen3);
  CHECK(h->config().head_dim == 64);
  CHECK(h->weights().layers[1].k_norm.cols == 64);
  CHECK(logits(g, kPrompt) == logits(h, kPrompt));
  const fs::path q = d / "q.gguf";
  auto md = quantize_f32(d / "hf", q);
  CHECK(md.metadata.u32_or("qwen3.attention.key_length", 0) == 64);
  CHECK(md.metadata.string_or("tokenizer.ggml.pre", "") == "qwen2");
  auto qm = must(load_model(q));
  CHECK(logits(qm, kPrompt) == logits(g, kPrompt));
  CHECK(greedy(qm, kPrompt, 16) == greedy(h, kPrompt, 16));
}

TEST_CASE("gemma3: norms stored as w of (1 + w), post-norms, sliding window 4; safetensors, GGUF and quantize agree") {
  mstest::TempDir d;
  generate({"--gguf", (d / "m.gguf").string(), "--hf-dir", (d / "hf").string(), "--seed", "15",
            "--arch", "gemma3", "--dim", "128", "--heads", "4", "--head-dim", "64", "--kv-heads", "1",
            "--ffn", "256", "--layers", "7", "--vocab", "400", "--sliding-window", "4", "--tied",
            "--rope-base", "1000000"});
  auto g = must(load_model(d / "m.gguf"));
  auto h = must(load_hf_model(d / "hf", as(GgmlType::F32)));
  CHECK(h->config().arch == Architecture::gemma3);
  CHECK(h->config().n_swa == 4);
  CHECK(h->weights().layers[6].post_ffn_norm.cols == 128);
  std::vector<int32_t> prompt = kPrompt;
  for (int32_t t = 0; t < 12; ++t) prompt.push_back(20 + 7 * t);  // 20 tokens: 5x the window
  CHECK(logits(g, prompt) == logits(h, prompt));
  const fs::path q = d / "q.gguf";
  auto md = quantize_f32(d / "hf", q);
  CHECK(md.metadata.u32_or("gemma3.attention.sliding_window", 0) == 4);
  CHECK(md.metadata.u32_or("gemma3.attention.key_length", 0) == 64);
  auto qm = must(load_model(q));
  CHECK(logits(qm, prompt) == logits(g, prompt));
  CHECK(greedy(qm, kPrompt, 16) == greedy(h, kPrompt, 16));

  // What the GGUF cannot say is refused, naming config.json.
  auto cfg = nlohmann::json::parse(mstest::read_file((d / "hf" / "config.json").string()));
  cfg["query_pre_attn_scalar"] = 100;
  mstest::write_file((d / "hf" / "config.json").string(), cfg.dump());
  auto r = mstest::run_cli({"quantize", (d / "hf").string(), "-o", (d / "bad.gguf").string(), "--type", "F32", "-q"},
                           std::chrono::seconds(60));
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("config.json") != std::string::npos);
  CHECK(r.err.find("query_pre_attn_scalar") != std::string::npos);
}

TEST_CASE("converted at load time to Q4_0 / Q4_K: the same model as the GGUF quantize writes") {
  mstest::TempDir d;
  generate({"--hf-dir", (d / "hf").string(), "--seed", "13", "--dim", "256", "--heads", "4",
            "--kv-heads", "2", "--ffn", "512", "--layers", "2", "--vocab", "400",
            "--safetensors-dtype", "BF16", "--shards", "2"});
  for (const char* type : {"Q4_0", "Q4_K"}) {
    CAPTURE(type);
    const fs::path q = d / (std::string(type) + ".gguf");
    auto r = mstest::run_cli({"quantize", (d / "hf").string(), "-o", q.string(), "--type", type, "-q"},
                             std::chrono::seconds(120));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto g = must(load_model(q));
    auto h = must(load_hf_model(d / "hf", as(*ggml_type_from_name(type))));
    CHECK(h->weights().layers[1].ffn_down.type == *ggml_type_from_name(type));
    CHECK(h->weights().output.type == GgmlType::Q6_K);
    CHECK(h->weights().layers[0].attn_norm.type == GgmlType::F32);
    // Memory: the quantized weights, no float copy.
    CHECK(h->weight_bytes() == gguf_tensor_bytes(q));
    CHECK(h->weight_bytes() < 0.4 * (*open_hf_checkpoint(d / "hf")).input_bytes());
    CHECK(logits(g, kPrompt) == logits(h, kPrompt));
    CHECK(greedy(g, kPrompt, 16) == greedy(h, kPrompt, 16));
  }
}

TEST_CASE("tokenizer.json encodes as the GGUF tokenizer of the same vocabulary") {
  mstest::TempDir d;
  const std::vector<std::string> texts = {
      "hello world", "The quick brown fox jumps over the lazy dog.", "once upon a time, 123 kings!",
      "  two  spaces\nand a newline", "h\xc3\xa9llo \xe2\x98\x83 caf\xc3\xa9", "<s>the</s> model"};
  for (const std::string tok : {"llama", "gpt2"}) {
    CAPTURE(tok);
    const fs::path dir = d / tok;
    fs::create_directories(dir);
    generate({"--gguf", (dir / "m.gguf").string(), "--hf-dir", (dir / "hf").string(), "--tokenizer",
              tok, "--arch", tok == "llama" ? "llama" : "qwen2", "--vocab", "600"});
    auto g = must(load_model(dir / "m.gguf"));
    auto h = must(load_hf_model(dir / "hf"));
    const Tokenizer& a = g->tokenizer();
    const Tokenizer& b = h->tokenizer();
    CHECK(a.n_vocab() == b.n_vocab());
    CHECK(a.bos() == b.bos());
    CHECK(a.eos() == b.eos());
    CHECK(a.adds_bos() == b.adds_bos());
    for (const auto& t : texts) {
      CAPTURE(t);
      CHECK(a.encode(t) == b.encode(t));
      if (t.find('<') == std::string::npos) CHECK(b.decode(b.encode(t, false)) == t);
    }
    // Known pieces: whole words of the vocabulary become their own tokens.
    const std::string sp = tok == "llama" ? "\xe2\x96\x81" : "\xc4\xa0";
    auto the = b.find(sp + "the"), of = b.find(sp + "of");
    REQUIRE(the);
    REQUIRE(of);
    if (tok == "llama") CHECK(b.encode("the of", false) == std::vector<int32_t>{*the, *of});
    else CHECK(b.encode(" the of", false) == std::vector<int32_t>{*the, *of});
  }
}

TEST_CASE("run and eval take the directory; an unsupported tokenizer still runs --tokens") {
  mstest::TempDir d;
  generate({"--hf-dir", (d / "hf").string(), "--seed", "5", "--dim", "256", "--heads", "4",
            "--ffn", "512", "--layers", "1", "--vocab", "320"});
  auto q = mstest::run_cli({"quantize", (d / "hf").string(), "-o", (d / "q.gguf").string(), "-q"});
  REQUIRE_MESSAGE(q.exit_code == 0, q.err);
  auto run = [&](const fs::path& m, std::vector<std::string> extra) {
    std::vector<std::string> a = {"run", m.string(), "-n", "8", "--temp", "0", "--json"};
    a.insert(a.end(), extra.begin(), extra.end());
    return mstest::run_cli(a, std::chrono::seconds(60));
  };
  auto from_dir = run(d / "hf", {"-p", "the king"});
  auto from_gguf = run(d / "q.gguf", {"-p", "the king"});
  REQUIRE_MESSAGE(from_dir.exit_code == 0, from_dir.err);
  REQUIRE_MESSAGE(from_gguf.exit_code == 0, from_gguf.err);
  CHECK(nlohmann::json::parse(from_dir.out)["tokens"] == nlohmann::json::parse(from_gguf.out)["tokens"]);
  auto bench = mstest::run_cli({"bench", (d / "hf").string(), "-p", "8", "-n", "2", "--json"}, std::chrono::seconds(120));
  REQUIRE_MESSAGE(bench.exit_code == 0, bench.err);
  CHECK(nlohmann::json::parse(bench.out)["decode_tokens_per_s"]["cpu"].get<double>() > 0);
  auto e1 = mstest::run_cli({"eval", (d / "hf").string(), "--tokens", "1,300,301", "--json"});
  auto e2 = mstest::run_cli({"eval", (d / "q.gguf").string(), "--tokens", "1,300,301", "--json"});
  REQUIRE_MESSAGE(e1.exit_code == 0, e1.err);
  CHECK(e1.out == e2.out);

  mstest::write_file((d / "hf" / "tokenizer.json").string(), R"({"model":{"type":"Unigram","vocab":[]}})");
  auto text = run(d / "hf", {"-p", "the king"});
  CHECK(text.exit_code == 7);
  CHECK(text.err.find("tokenizer.json") != std::string::npos);
  CHECK(text.err.find("Unigram") != std::string::npos);
  auto ids = run(d / "hf", {"--tokens", "1,300,301"});
  REQUIRE_MESSAGE(ids.exit_code == 0, ids.err);
  auto ids_gguf = run(d / "q.gguf", {"--tokens", "1,300,301"});
  CHECK(nlohmann::json::parse(ids.out)["tokens"] == nlohmann::json::parse(ids_gguf.out)["tokens"]);

  mstest::write_file((d / "hf" / "config.json").string(), R"({"model_type":"gpt2","architectures":["GPT2LMHeadModel"]})");
  auto arch = run(d / "hf", {"--tokens", "1"});
  CHECK(arch.exit_code == 7);
  CHECK(arch.err.find("GPT2LMHeadModel") != std::string::npos);
}
