// The test-model generator: deterministic, both formats hold the same weights (with llama.cpp's
// Q/K row permutation in GGUF for llama, none for qwen2), llama.cpp-style metadata and
// tokenizer, realistic value ranges, sharding, and clear refusals of impossible shapes.
#include <doctest/doctest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "modelswarm/gguf.hpp"
#include "modelswarm/model_info.hpp"
#include "modelswarm/quant.hpp"
#include "process.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
namespace fs = std::filesystem;

namespace {

std::string tool() { return std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model"; }

mstest::ProcessResult generate(std::vector<std::string> args) {
  args.insert(args.begin(), tool());
  return mstest::run(args, std::chrono::seconds(120));
}

// Tensor data as floats (any type dequantize_row handles, row by row).
std::vector<float> floats_of(const ModelInfo& m, const std::string& name) {
  const TensorInfo* t = m.find_tensor(name);
  REQUIRE_MESSAGE(t, name);
  std::string bytes = mstest::read_file(m.files[t->file_index].string());
  REQUIRE(t->offset + t->size <= bytes.size());
  std::vector<float> out(t->element_count());
  REQUIRE(t->ggml_type.has_value());
  auto ok = dequantize_row(*t->ggml_type, bytes.data() + t->offset, out.data(), out.size());
  REQUIRE(ok.ok());
  return out;
}

ModelInfo read(const fs::path& p) {
  auto m = read_model_info(p);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  return std::move(m).value();
}

}  // namespace

TEST_CASE("llama F32: GGUF and safetensors hold the same weights, Q/K permuted in GGUF") {
  mstest::TempDir dir;
  auto r = generate({"--gguf", (dir / "m.gguf").string(), "--hf-dir", (dir / "hf").string(),
                     "--seed", "5", "--dim", "64", "--heads", "4", "--kv-heads", "2",
                     "--layers", "2", "--ffn", "96", "--vocab", "400"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("\"parameters\"") != std::string::npos);
  ModelInfo g = read(dir / "m.gguf");
  ModelInfo h = read(dir / "hf");
  CHECK(g.format == ModelFormat::gguf);
  CHECK(h.format == ModelFormat::safetensors);
  CHECK(g.parameter_count() == h.parameter_count());
  CHECK(g.tensors.size() == h.tensors.size());
  CHECK(g.tensors.size() == 3 + 2 * 9);

  const auto* emb = g.find_tensor("token_embd.weight");
  REQUIRE(emb);
  CHECK(emb->shape == std::vector<uint64_t>{64, 400});
  CHECK(h.find_tensor("model.embed_tokens.weight")->shape == std::vector<uint64_t>{400, 64});
  CHECK(floats_of(g, "token_embd.weight") == floats_of(h, "model.embed_tokens.weight"));
  CHECK(floats_of(g, "blk.1.ffn_down.weight") == floats_of(h, "model.layers.1.mlp.down_proj.weight"));
  CHECK(floats_of(g, "blk.0.attn_v.weight") == floats_of(h, "model.layers.0.self_attn.v_proj.weight"));

  // Q and K: GGUF row h*hd + 2j + i is HF row h*hd + i*hd/2 + j (hd = 16).
  for (const auto& [gn, hn, rows] :
       {std::tuple{"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight", 64},
        std::tuple{"blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight", 32}}) {
    auto gq = floats_of(g, gn), hq = floats_of(h, hn);
    REQUIRE(gq.size() == static_cast<size_t>(rows) * 64);
    CHECK(gq != hq);
    const int hd = 16;
    for (int row = 0; row < rows; ++row) {
      int head = row / hd, j = (row % hd) / 2, i = row % 2;
      int src = head * hd + i * hd / 2 + j;
      CHECK(std::equal(gq.begin() + row * 64, gq.begin() + row * 64 + 64, hq.begin() + src * 64));
    }
  }

  // llama.cpp metadata.
  const Metadata& md = g.metadata;
  CHECK(md.get_string("general.architecture").value() == "llama");
  CHECK(md.get_u32("llama.embedding_length").value() == 64);
  CHECK(md.get_u32("llama.block_count").value() == 2);
  CHECK(md.get_u32("llama.feed_forward_length").value() == 96);
  CHECK(md.get_u32("llama.attention.head_count").value() == 4);
  CHECK(md.get_u32("llama.attention.head_count_kv").value() == 2);
  CHECK(md.get_u32("llama.rope.dimension_count").value() == 16);
  CHECK(md.get_f32("llama.rope.freq_base").value() == 10000.0f);
  CHECK(md.get_f32("llama.attention.layer_norm_rms_epsilon").value() == doctest::Approx(1e-5));
  CHECK(md.get_string("tokenizer.ggml.model").value() == "llama");
  auto tokens = md.get_string_array("tokenizer.ggml.tokens").value();
  REQUIRE(tokens.size() == 400);
  CHECK(tokens[0] == "<unk>");
  CHECK(tokens[1] == "<s>");
  CHECK(tokens[2] == "</s>");
  CHECK(tokens[3] == "<0x00>");
  CHECK(tokens[258] == "<0xFF>");
  auto types = md.get_i32_array("tokenizer.ggml.token_type").value();
  CHECK(types[0] == 2);
  CHECK(types[1] == 3);
  CHECK(types[3] == 6);
  CHECK(types[300] == 1);
  CHECK(md.get_f32_array("tokenizer.ggml.scores").value().size() == 400);
  CHECK(md.get_u32("tokenizer.ggml.bos_token_id").value() == 1);
  CHECK(md.get_u32("tokenizer.ggml.eos_token_id").value() == 2);
  CHECK(std::find(tokens.begin(), tokens.end(), std::string("\xe2\x96\x81the")) != tokens.end());

  // HF side: config.json and tokenizer.json.
  CHECK(h.metadata.get_string("config.architecture").value() == "LlamaForCausalLM");
  CHECK(h.metadata.get_u32("config.num_key_value_heads").value() == 2);
  CHECK(h.metadata.get_bool("config.tie_word_embeddings").value() == false);
  CHECK(fs::exists(dir / "hf" / "tokenizer.json"));
}

TEST_CASE("weights look like real weights: norms near 1, small centred matrices") {
  mstest::TempDir dir;
  auto r = generate({"--gguf", (dir / "m.gguf").string(), "--dim", "128", "--vocab", "300"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  ModelInfo g = read(dir / "m.gguf");
  auto stats = [](const std::vector<float>& v) {
    double s = 0, s2 = 0;
    for (float x : v) s += x, s2 += double(x) * x;
    double mean = s / v.size();
    return std::pair{mean, std::sqrt(s2 / v.size() - mean * mean)};
  };
  auto [nm, ns] = stats(floats_of(g, "blk.0.attn_norm.weight"));
  CHECK(nm == doctest::Approx(1.0).epsilon(0.05));
  CHECK(ns == doctest::Approx(0.1).epsilon(0.3));
  auto [qm, qs] = stats(floats_of(g, "blk.1.attn_q.weight"));
  CHECK(std::abs(qm) < 0.01);
  CHECK(qs == doctest::Approx(1.0 / std::sqrt(128.0)).epsilon(0.1));
  auto emb = floats_of(g, "token_embd.weight");
  CHECK(emb[0] != emb[1]);
}

TEST_CASE("deterministic from the seed; another seed gives other weights") {
  mstest::TempDir dir;
  for (auto [name, seed] : {std::pair{"a", "9"}, std::pair{"b", "9"}, std::pair{"c", "10"}}) {
    auto r = generate({"--gguf", (dir / (std::string(name) + ".gguf")).string(), "--hf-dir",
                       (dir / name).string(), "--seed", seed, "--type", "Q8_0", "--vocab", "300",
                       "--threads", std::string(name) == "b" ? "1" : "3"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  auto bytes = [&](const std::string& p) { return mstest::read_file((dir / p).string()); };
  CHECK(bytes("a.gguf") == bytes("b.gguf"));
  CHECK(bytes("a/model.safetensors") == bytes("b/model.safetensors"));
  CHECK(bytes("a/tokenizer.json") == bytes("b/tokenizer.json"));
  CHECK(bytes("a.gguf") != bytes("c.gguf"));
}

TEST_CASE("Q4_0 with a Q6_K output like real files; quantized values track the F32 ones") {
  mstest::TempDir dir;
  auto r = generate({"--gguf", (dir / "q.gguf").string(), "--hf-dir", (dir / "hf").string(),
                     "--type", "Q4_0", "--output-type", "Q6_K", "--dim", "256", "--ffn", "512",
                     "--vocab", "320", "--layers", "1"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  ModelInfo g = read(dir / "q.gguf");
  ModelInfo h = read(dir / "hf");
  CHECK(g.find_tensor("output.weight")->dtype == "Q6_K");
  CHECK(g.find_tensor("blk.0.ffn_up.weight")->dtype == "Q4_0");
  CHECK(g.find_tensor("token_embd.weight")->dtype == "Q4_0");
  CHECK(g.find_tensor("blk.0.ffn_norm.weight")->dtype == "F32");
  CHECK(g.metadata.get_u32("general.file_type").value() == 2);
  CHECK(g.metadata.get_u32("general.quantization_version").value() == 2);
  auto q = floats_of(g, "blk.0.ffn_up.weight");
  auto f = floats_of(h, "model.layers.0.mlp.up_proj.weight");
  REQUIRE(q.size() == f.size());
  double err = 0, ref = 0;
  for (size_t i = 0; i < q.size(); ++i) err += std::abs(q[i] - f[i]), ref += std::abs(f[i]);
  CHECK(err / ref < 0.15);  // 4-bit: about 10% mean relative error
  auto o6 = floats_of(g, "output.weight");
  auto of = floats_of(h, "lm_head.weight");
  double e6 = 0, r6 = 0;
  for (size_t i = 0; i < o6.size(); ++i) e6 += std::abs(o6[i] - of[i]), r6 += std::abs(of[i]);
  CHECK(e6 / r6 < 0.05);
}

TEST_CASE("qwen2: q/k/v biases, no permutation, gpt2 tokenizer, tied, sharded BF16") {
  mstest::TempDir dir;
  auto r = generate({"--gguf", (dir / "q.gguf").string(), "--hf-dir", (dir / "hf").string(),
                     "--arch", "qwen2", "--tokenizer", "gpt2", "--tied", "--shards", "3",
                     "--safetensors-dtype", "BF16", "--vocab", "350"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  ModelInfo g = read(dir / "q.gguf");
  ModelInfo h = read(dir / "hf");
  CHECK(h.files.size() == 3);
  CHECK(fs::exists(dir / "hf" / "model.safetensors.index.json"));
  CHECK(!g.find_tensor("output.weight"));
  CHECK(!h.find_tensor("lm_head.weight"));
  CHECK(g.find_tensor("blk.1.attn_k.bias"));
  CHECK(h.find_tensor("model.layers.1.self_attn.k_proj.bias")->dtype == "BF16");
  CHECK(g.metadata.get_u32("qwen2.block_count").value() == 2);
  CHECK(g.metadata.get_string("tokenizer.ggml.model").value() == "gpt2");
  CHECK(g.metadata.get_string("tokenizer.ggml.pre").value() == "qwen2");
  auto merges = g.metadata.get_string_array("tokenizer.ggml.merges").value();
  REQUIRE(!merges.empty());
  CHECK(merges[0] == "\xc4\xa0 t");  // "Ġ t"
  auto tokens = g.metadata.get_string_array("tokenizer.ggml.tokens").value();
  CHECK(tokens.size() == 350);
  CHECK(tokens.back() == "<|endoftext|>");
  CHECK(g.metadata.get_u32("tokenizer.ggml.eos_token_id").value() == 349);
  // Without permutation, GGUF q rows equal HF rows (up to BF16 rounding on the HF side).
  auto gq = floats_of(g, "blk.0.attn_q.weight");
  auto hq = floats_of(h, "model.layers.0.self_attn.q_proj.weight");
  REQUIRE(gq.size() == hq.size());
  for (size_t i = 0; i < gq.size(); ++i) REQUIRE(std::abs(gq[i] - hq[i]) <= std::abs(gq[i]) / 128);
}

TEST_CASE("impossible options are refused with exit 2 and a message") {
  mstest::TempDir dir;
  auto gguf = (dir / "x.gguf").string();
  auto bad = [&](std::vector<std::string> extra) {
    std::vector<std::string> a{"--gguf", gguf};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = generate(a);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("make_test_model: ") != std::string::npos);
  };
  bad({"--type", "Q4_K"});  // dim 64 is not a multiple of 256
  bad({"--type", "Q8_1"});
  bad({"--dim", "60", "--heads", "8"});
  bad({"--heads", "4", "--kv-heads", "3"});
  bad({"--vocab", "100"});
  bad({"--arch", "gpt-neox"});
  CHECK(generate({}).exit_code == 2);
  CHECK(!fs::exists(gguf));
}
