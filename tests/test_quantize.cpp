// modelswarm quantize: an HF checkpoint made by make_test_model converts to exactly the GGUF
// that make_test_model writes from the same weights (names, Q/K permutation, types, bytes),
// with llama.cpp metadata and tokenizer; the output is deterministic; bad input is refused
// with a clear error and no file left behind.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "modelswarm/gguf.hpp"
#include "modelswarm/hf_checkpoint.hpp"
#include "modelswarm/quant_mix.hpp"
#include "modelswarm/quantize.hpp"
#include "process.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
namespace fs = std::filesystem;

namespace {

std::string tool() { return std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model"; }

void generate(std::vector<std::string> args) {
  args.insert(args.begin(), tool());
  auto r = mstest::run(args, std::chrono::seconds(120));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

GgufFile gguf(const fs::path& p) {
  auto g = read_gguf(p);
  REQUIRE_MESSAGE(g.ok(), (g.ok() ? "" : g.error().message));
  return std::move(g).value();
}

std::string tensor_bytes(const GgufFile& g, const std::string& file, const GgufTensorInfo& t) {
  std::ifstream f(file, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(g.absolute_offset(t)));
  std::string s(t.size, '\0');
  f.read(s.data(), static_cast<std::streamsize>(s.size()));
  REQUIRE(f.good());
  return s;
}

// Every tensor of `want` is in `got` with the same type, dims and bytes.
void same_tensors(const fs::path& want_path, const fs::path& got_path) {
  GgufFile want = gguf(want_path), got = gguf(got_path);
  CHECK(want.tensors.size() == got.tensors.size());
  for (const auto& w : want.tensors) {
    CAPTURE(w.name);
    const GgufTensorInfo* g = got.find_tensor(w.name);
    REQUIRE(g);
    CHECK(static_cast<int>(g->type) == static_cast<int>(w.type));
    CHECK(g->dims == w.dims);
    CHECK(tensor_bytes(want, want_path.string(), w) == tensor_bytes(got, got_path.string(), *g));
  }
}

void same_keys(const GgufFile& a, const GgufFile& b, std::initializer_list<std::string> keys) {
  for (const auto& k : keys) {
    CAPTURE(k);
    const MetaValue* x = a.metadata.find(k);
    const MetaValue* y = b.metadata.find(k);
    REQUIRE(x);
    REQUIRE(y);
    CHECK(*x == *y);
  }
}

mstest::ProcessResult quantize(const fs::path& src, const fs::path& out, const std::string& type) {
  return mstest::run_cli({"quantize", src.string(), "-o", out.string(), "--type", type, "--quiet"},
                         std::chrono::seconds(120));
}

}  // namespace

TEST_CASE("llama, sharded F32: quantize --type F32 equals make_test_model's GGUF, Q/K permuted") {
  mstest::TempDir d;
  generate({"--gguf", (d / "ref.gguf").string(), "--hf-dir", (d / "hf").string(), "--seed", "3",
            "--dim", "64", "--heads", "4", "--kv-heads", "2", "--ffn", "96", "--vocab", "400",
            "--shards", "3"});
  REQUIRE(fs::exists(d / "hf" / "model.safetensors.index.json"));
  auto r = quantize(d / "hf", d / "out.gguf", "F32");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  same_tensors(d / "ref.gguf", d / "out.gguf");
  GgufFile ref = gguf(d / "ref.gguf"), out = gguf(d / "out.gguf");
  same_keys(ref, out,
            {"general.architecture", "llama.context_length", "llama.embedding_length",
             "llama.block_count", "llama.feed_forward_length", "llama.attention.head_count",
             "llama.attention.head_count_kv", "llama.rope.dimension_count", "llama.rope.freq_base",
             "llama.attention.layer_norm_rms_epsilon", "llama.vocab_size", "general.file_type",
             "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.bos_token_id",
             "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
             "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token"});
  // Token types: control/byte/unknown/normal as llama.cpp assigns them.
  auto types = out.metadata.get_i32_array("tokenizer.ggml.token_type");
  REQUIRE(types.ok());
  CHECK((*types)[0] == 2);    // <unk>
  CHECK((*types)[1] == 3);    // <s>
  CHECK((*types)[3] == 6);    // <0x00>
  CHECK((*types)[300] == 1);  // a piece
  CHECK(out.metadata.string_or("general.name", "") == "hf");
  auto ins = mstest::run_cli({"inspect", (d / "out.gguf").string(), "--json"});
  REQUIRE_MESSAGE(ins.exit_code == 0, ins.err);
  auto j = nlohmann::json::parse(ins.out);
  CHECK(j.dump().find("blk.1.attn_k.weight") != std::string::npos);
  CHECK(j.dump().find("llama.attention.head_count_kv") != std::string::npos);
}

TEST_CASE("llama Q4_0: matrices Q4_0, output Q6_K, norms F32, bytes as make_test_model quantizes") {
  mstest::TempDir d;
  generate({"--gguf", (d / "ref.gguf").string(), "--hf-dir", (d / "hf").string(), "--seed", "9",
            "--dim", "256", "--heads", "4", "--layers", "1", "--ffn", "512", "--vocab", "320",
            "--type", "Q4_0", "--output-type", "Q6_K", "--safetensors-dtype", "F32"});
  auto r = quantize(d / "hf", d / "out.gguf", "Q4_0");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  same_tensors(d / "ref.gguf", d / "out.gguf");
  GgufFile out = gguf(d / "out.gguf");
  CHECK(out.metadata.u32_or("general.file_type", 0) == 2);
  CHECK(out.metadata.u32_or("general.quantization_version", 0) == 2);
}

TEST_CASE("qwen2, tied, byte-level BPE: no output.weight, token_embd as the output type, merges") {
  mstest::TempDir d;
  generate({"--gguf", (d / "ref.gguf").string(), "--hf-dir", (d / "hf").string(), "--seed", "4",
            "--arch", "qwen2", "--tokenizer", "gpt2", "--tied", "--dim", "64", "--heads", "4",
            "--kv-heads", "1", "--ffn", "128", "--vocab", "400", "--type", "Q8_0"});
  auto r = quantize(d / "hf", d / "out.gguf", "Q8_0");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  same_tensors(d / "ref.gguf", d / "out.gguf");
  GgufFile ref = gguf(d / "ref.gguf"), out = gguf(d / "out.gguf");
  CHECK(out.find_tensor("output.weight") == nullptr);
  CHECK(out.find_tensor("blk.0.attn_q.bias") != nullptr);
  same_keys(ref, out, {"general.architecture", "qwen2.attention.head_count_kv", "tokenizer.ggml.model",
                       "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.merges",
                       "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_bos_token"});
  CHECK(out.metadata.string_or("tokenizer.ggml.pre", "") == "qwen2");
}

TEST_CASE("quantize is deterministic and streams K-quants (Q4_K, BF16 input)") {
  mstest::TempDir d;
  generate({"--hf-dir", (d / "hf").string(), "--seed", "2", "--dim", "256", "--heads", "2",
            "--layers", "2", "--ffn", "512", "--vocab", "512", "--safetensors-dtype", "BF16",
            "--shards", "2"});
  auto a = quantize(d / "hf", d / "a.gguf", "Q4_K");
  REQUIRE_MESSAGE(a.exit_code == 0, a.err);
  auto b = mstest::run_cli({"quantize", (d / "hf").string(), "-o", (d / "b.gguf").string(),
                            "--type", "Q4_K", "--threads", "1", "--json"});
  REQUIRE_MESSAGE(b.exit_code == 0, b.err);
  auto j = nlohmann::json::parse(b.out);
  CHECK(j["output_bytes"].get<uint64_t>() == fs::file_size(d / "b.gguf"));
  CHECK(j["input_bytes"].get<uint64_t>() > j["output_bytes"].get<uint64_t>());
  CHECK(mstest::read_file((d / "a.gguf").string()) == mstest::read_file((d / "b.gguf").string()));
  GgufFile g = gguf(d / "a.gguf");
  CHECK(g.find_tensor("blk.1.ffn_up.weight")->type == GgmlType::Q4_K);
  CHECK(g.find_tensor("blk.1.ffn_down.weight")->type == GgmlType::Q4_K);
  CHECK(g.find_tensor("output.weight")->type == GgmlType::Q6_K);
  CHECK(g.find_tensor("blk.0.attn_norm.weight")->type == GgmlType::F32);
  CHECK(g.metadata.u32_or("general.file_type", 0) == 14);
}

TEST_CASE("type fallbacks follow the row length") {
  HfTensor m;
  m.role = HfTensorRole::matrix;
  m.rows = 8;
  m.cols = 96;  // a multiple of 32, not of 256
  CHECK(hf_tensor_type(m, GgmlType::Q4_K, true) == GgmlType::Q4_0);
  CHECK(hf_tensor_type(m, GgmlType::Q4_0, true) == GgmlType::Q4_0);
  m.role = HfTensorRole::output;
  CHECK(hf_tensor_type(m, GgmlType::Q4_0, true) == GgmlType::Q8_0);
  m.cols = 512;
  CHECK(hf_tensor_type(m, GgmlType::Q4_0, true) == GgmlType::Q6_K);
  CHECK(hf_tensor_type(m, GgmlType::Q8_0, true) == GgmlType::Q8_0);
  CHECK(hf_tensor_type(m, GgmlType::F16, true) == GgmlType::F16);
  m.role = HfTensorRole::token_embd;
  CHECK(hf_tensor_type(m, GgmlType::Q4_K, true) == GgmlType::Q4_K);
  CHECK(hf_tensor_type(m, GgmlType::Q4_K, false) == GgmlType::Q6_K);  // tied: it is the output
  m.cols = 40;
  CHECK(hf_tensor_type(m, GgmlType::Q4_0, true) == GgmlType::F16);
  m.role = HfTensorRole::vector;
  CHECK(hf_tensor_type(m, GgmlType::Q4_0, true) == GgmlType::F32);
}

TEST_CASE("--type Q4_K_M: llama.cpp's per-tensor types, fallbacks for 320-wide rows, and the file runs") {
  mstest::TempDir d;
  // 8 layers: more-bits layers 0, 3, 6, 7. ffn_down rows are 320 long: not whole 256-element
  // blocks, so its Q4_K becomes Q5_0 and its Q6_K Q8_0.
  generate({"--hf-dir", (d / "hf").string(), "--seed", "6", "--dim", "256", "--heads", "4", "--kv-heads", "2",
            "--layers", "8", "--ffn", "320", "--vocab", "512"});
  auto r = mstest::run_cli({"quantize", (d / "hf").string(), "-o", (d / "m.gguf").string(), "--type", "Q4_K_M",
                            "--json", "--quiet"},
                           std::chrono::seconds(120));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["type"] == "Q4_K_M");
  CHECK(j["mix"] == true);
  CHECK(j["file_type"] == 15);
  GgufFile g = gguf(d / "m.gguf");
  CHECK(g.metadata.u32_or("general.file_type", 0) == 15);
  CHECK(g.metadata.u32_or("general.quantization_version", 0) == 2);

  const std::set<int> more = {0, 3, 6, 7};
  std::map<std::string, uint64_t> counted;
  for (const auto& t : g.tensors) {
    CAPTURE(t.name);
    ++counted[ggml_type_name(t.type)];
    const auto layer = gguf_block_index(t.name);
    const bool up = layer && more.count(int(*layer));
    if (t.name.find("attn_v.weight") != std::string::npos)
      CHECK(t.type == (up ? GgmlType::Q6_K : GgmlType::Q4_K));
    else if (t.name.find("ffn_down.weight") != std::string::npos)
      CHECK(t.type == (up ? GgmlType::Q8_0 : GgmlType::Q5_0));
    else if (t.name.find("norm") != std::string::npos)
      CHECK(t.type == GgmlType::F32);
    else if (t.name == "output.weight")
      CHECK(t.type == GgmlType::Q6_K);
    else
      CHECK(t.type == GgmlType::Q4_K);  // token_embd, attn_q/k/output, ffn_gate/up
  }
  // --json counts what the file holds.
  CHECK(j["tensor_types"].get<std::map<std::string, uint64_t>>() == counted);
  CHECK(j["tensors"].get<uint64_t>() == g.tensors.size());

  // Every mix writes a file the engine runs, each with its own file type.
  for (const char* mix : {"Q4_K_M", "Q5_K_M", "Q3_K_M", "Q4_K_S", "Q5_K_S", "Q3_K_S", "Q3_K_L"}) {
    CAPTURE(mix);
    const fs::path out = d / (std::string(mix) + ".gguf");
    auto q = quantize(d / "hf", out, mix);
    REQUIRE_MESSAGE(q.exit_code == 0, q.err);
    CHECK(gguf(out).metadata.u32_or("general.file_type", 0) == quant_mix_info(*quant_mix_from_name(mix)).file_type);
    auto run = mstest::run_cli({"run", out.string(), "--tokens", "1,45,300,17", "--temp", "0", "-n", "4",
                                "--ignore-eos", "--threads", "2", "--json", "--quiet"},
                               std::chrono::seconds(120));
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(nlohmann::json::parse(run.out)["tokens"].size() == 4);
  }
}

TEST_CASE("Q/K permutation is llama.cpp's: halves of each head interleaved") {
  // head_dim 8: GGUF rows 0..7 take HF rows 0,4,1,5,2,6,3,7; the next head is offset by 8.
  const uint64_t want[] = {0, 4, 1, 5, 2, 6, 3, 7};
  for (uint64_t r = 0; r < 8; ++r) {
    CHECK(hf_source_row(r, 8) == want[r]);
    CHECK(hf_source_row(8 + r, 8) == 8 + want[r]);
  }
}

TEST_CASE("refusals: clear errors, exit codes, nothing left behind") {
  mstest::TempDir d;
  generate({"--hf-dir", (d / "hf").string(), "--seed", "1", "--dim", "64", "--heads", "4",
            "--layers", "1", "--vocab", "320"});
  const fs::path out = d / "out.gguf";

  SUBCASE("bad --type") {
    auto r = quantize(d / "hf", out, "Q8_1");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--type") != std::string::npos);
    CHECK(r.err.find("Q4_K_M") != std::string::npos);  // the mixes are listed too
  }
  SUBCASE("unsupported architecture") {
    mstest::write_file((d / "hf" / "config.json").string(),
                       R"({"architectures":["GPTNeoXForCausalLM"],"model_type":"gpt_neox","hidden_size":64})");
    auto r = quantize(d / "hf", out, "Q4_0");
    CHECK(r.exit_code == 7);
    CHECK(r.err.find("GPTNeoXForCausalLM") != std::string::npos);
    CHECK(r.err.find("not supported") != std::string::npos);
  }
  SUBCASE("unsupported tokenizer") {
    mstest::write_file((d / "hf" / "tokenizer.json").string(),
                       R"({"model":{"type":"Unigram","vocab":[["a",0.0]]}})");
    auto r = quantize(d / "hf", out, "Q4_0");
    CHECK(r.exit_code == 7);
    CHECK(r.err.find("tokenizer.json") != std::string::npos);
    CHECK(r.err.find("Unigram") != std::string::npos);
  }
  SUBCASE("shape disagreeing with config.json") {
    std::string cfg = mstest::read_file((d / "hf" / "config.json").string());
    auto j = nlohmann::json::parse(cfg);
    j["intermediate_size"] = 100;
    mstest::write_file((d / "hf" / "config.json").string(), j.dump());
    auto r = quantize(d / "hf", out, "Q4_0");
    CHECK(r.exit_code == 7);
    CHECK(r.err.find("mlp.gate_proj.weight") != std::string::npos);
  }
  SUBCASE("a member of the wrong JSON type (found by fuzz_hf_config: it used to throw)") {
    std::string cfg = mstest::read_file((d / "hf" / "config.json").string());
    auto j = nlohmann::json::parse(cfg);
    j["tie_word_embeddings"] = "yes";
    mstest::write_file((d / "hf" / "config.json").string(), j.dump());
    auto r = quantize(d / "hf", out, "Q4_0");
    CHECK(r.exit_code == 7);
    CHECK(r.err.find("\"tie_word_embeddings\" is not true or false") != std::string::npos);
  }
  SUBCASE("not a checkpoint") {
    auto r = quantize(d / "nothing", out, "Q4_0");
    CHECK(r.exit_code != 0);
  }
  CHECK_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(d.path())) CHECK(e.path().extension() != ".tmp");
}
