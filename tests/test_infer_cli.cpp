// The engine on GGUF files written by make_test_model, through load_model and the real CLI:
// loading (llama, qwen2 and gemma3, both tokenizer types), agreement with the reference, run / eval
// output, determinism, release verification before running, and clear errors for bad input.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "infer_test_model.hpp"
#include "modelswarm/gguf.hpp"
#include "modelswarm/gguf_writer.hpp"
#include "process.hpp"
#include "release_fixture.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
using mstest::run_cli;
namespace fs = std::filesystem;

namespace {

std::string make_model(const fs::path& path, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model", "--gguf",
                                   path.string(), "--threads", "1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = mstest::run(argv, std::chrono::seconds(120));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return path.string();
}

nlohmann::json json_of(const mstest::ProcessResult& r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

// Rewrites `src` with the same metadata and tensors, except `change` applied to them.
void rewrite_gguf(const fs::path& src, const fs::path& dst, const std::function<void(GgufWriter&)>& meta,
                  const std::string& retype_tensor, GgmlType new_type) {
  auto f = read_gguf(src);
  REQUIRE(f.ok());
  GgufWriter w;
  for (const auto& [k, v] : f->metadata.entries()) w.metadata().set(k, v);
  meta(w);
  uint64_t total = 0;
  for (const auto& t : f->tensors) {
    GgmlType type = t.name == retype_tensor ? new_type : t.type;
    REQUIRE(w.add_tensor(t.name, type, t.dims).ok());
    uint64_t n = 1;
    for (auto d : t.dims) n *= d;
    total += *ggml_row_bytes(type, t.dims[0]) * (n / t.dims[0]);
  }
  REQUIRE(w.begin(dst).ok());
  std::vector<uint8_t> zeros(total, 0);
  REQUIRE(w.write_data(zeros).ok());
  REQUIRE(w.finish().ok());
}

// The engine's logits for every position of `tokens` within 0.5% of the reference's scale.
void check_reference(const std::shared_ptr<const Model>& m, const std::vector<int32_t>& tokens) {
  const ModelConfig& c = m->config();
  auto tm = mstest::reference_from(m);
  auto want = mstest::reference_logits(tm, tokens);
  auto ctx = Context::create(m, ContextOptions{32, 2});
  REQUIRE(ctx.ok());
  auto got = (*ctx)->eval(tokens, true);
  REQUIRE(got.ok());
  for (size_t p = 0; p < tokens.size(); ++p) {
    float scale = 0, worst = 0;
    for (size_t v = 0; v < c.n_vocab; ++v) {
      scale = std::max(scale, std::abs(want[p * c.n_vocab + v]));
      worst = std::max(worst, std::abs((*got)[p * c.n_vocab + v] - want[p * c.n_vocab + v]));
    }
    CAPTURE(p);
    CHECK(worst <= 5e-3f * std::max(1.0f, scale));
  }
}

}  // namespace

TEST_CASE("GGUF models load and match the reference: llama Q4_0/Q6_K, qwen2 tied F16 with BPE") {
  mstest::TempDir tmp;
  struct Case {
    std::vector<std::string> args;
  };
  std::vector<Case> cases = {
      {{"--arch", "llama", "--dim", "256", "--ffn", "512", "--heads", "8", "--kv-heads", "2", "--type", "Q4_0",
        "--output-type", "Q6_K", "--seed", "3"}},
      {{"--arch", "qwen2", "--dim", "128", "--heads", "4", "--kv-heads", "2", "--type", "F16", "--tied",
        "--tokenizer", "gpt2", "--seed", "4"}},
      {{"--arch", "llama", "--dim", "256", "--heads", "4", "--type", "Q4_K", "--tokenizer", "gpt2", "--seed", "5"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    auto path = make_model(tmp / ("m" + std::to_string(i) + ".gguf"), cases[i].args);
    auto m = load_model(path);
    REQUIRE(m.ok());
    const ModelConfig& c = (*m)->config();
    CHECK(c.n_layer == 2);
    CHECK((*m)->weights().tied_embeddings == (i == 1));
    CHECK(c.rope_mode == (i == 1 ? RopeMode::neox : RopeMode::normal));

    // Tokenizer from the metadata round-trips text.
    const Tokenizer& tok = (*m)->tokenizer();
    for (std::string text : {"Hello world", "the quick brown fox, 123!", "  spaces\nand lines"}) {
      auto ids = tok.encode(text, true, false);
      CHECK(!ids.empty());
      CHECK(tok.decode(ids) == text);
    }

    check_reference(*m, {1, 17, 200, 33, 45, 99});
  }
}

TEST_CASE("gemma3 GGUF: the window and layer pattern from the file, the reference over a prompt 5x the window") {
  mstest::TempDir tmp;
  auto path = make_model(tmp / "g.gguf", {"--arch", "gemma3", "--dim", "128", "--heads", "4", "--head-dim", "64",
                                          "--kv-heads", "2", "--layers", "7", "--sliding-window", "4", "--type", "F16",
                                          "--rope-base", "1000000", "--seed", "12"});
  auto m = load_model(path);
  REQUIRE(m.ok());
  const ModelConfig& c = (*m)->config();
  CHECK(c.arch == Architecture::gemma3);
  CHECK(c.n_swa == 4);
  CHECK(c.rope_freq_base == 1e6f);
  for (uint32_t il = 0; il < 7; ++il) CHECK(layer_is_local(c, il) == (il != 5));
  CHECK((*m)->weights().layers[3].post_attn_norm.present());
  // F16 layers: with Q8_0 ones, one activation rounding to the other int8 value somewhere in 20
  // positions of 7 layers moves the logits by ~1% (llama models too), more than this check allows.
  std::vector<int32_t> tokens = {1};
  for (int32_t t = 0; t < 19; ++t) tokens.push_back(10 + 13 * t);
  check_reference(*m, tokens);

  auto bad = tmp / "no-window.gguf";
  rewrite_gguf(path, bad, [](GgufWriter& w) { w.metadata().set("gemma3.attention.sliding_window", MetaValue::u32(0)); },
               "", GgmlType::F32);
  auto r = run_cli({"run", bad.string(), "-p", "x"});
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("sliding_window") != std::string::npos);
}

TEST_CASE("run streams text deterministically; eval prints the top logits") {
  mstest::TempDir tmp;
  auto path = make_model(tmp / "m.gguf", {"--dim", "256", "--ffn", "512", "--heads", "4", "--kv-heads", "2", "--type", "Q8_0",
                                          "--output-type", "Q6_K", "--vocab", "600", "--seed", "9"});
  auto a = json_of(run_cli({"run", path, "-p", "Hello world", "-n", "12", "--temp", "0", "--ignore-eos", "--json"}));
  auto b = json_of(run_cli({"run", path, "-p", "Hello world", "-n", "12", "--temp", "0", "--ignore-eos", "--json",
                            "--kernel", "scalar", "--threads", "1"}));
  CHECK(a["generated_tokens"] == 12);
  CHECK(a["tokens"].size() == 12);
  CHECK(a["tokens"] == b["tokens"]);
  CHECK(a["text"] == b["text"]);

  // Sampling with a seed repeats; the plain output is the same text.
  auto s1 = json_of(run_cli({"run", path, "-p", "Hello", "-n", "10", "--temp", "1.5", "--seed", "5", "--json"}));
  auto s2 = json_of(run_cli({"run", path, "-p", "Hello", "-n", "10", "--temp", "1.5", "--seed", "5", "--json"}));
  CHECK(s1["tokens"] == s2["tokens"]);
  auto plain = run_cli({"run", path, "-p", "Hello world", "-n", "12", "--temp", "0", "--ignore-eos"});
  CHECK(plain.exit_code == 0);
  // Plain output is the raw bytes of the pieces (JSON replaced invalid UTF-8 in "text").
  auto model = load_model(path);
  REQUIRE(model.ok());
  std::string raw;
  for (const auto& id : a["tokens"]) raw += (*model)->tokenizer().piece(id.get<int32_t>());
  CHECK(plain.out == raw + "\n");
  CHECK(plain.err.find("tokens/s") != std::string::npos);

  // --tokens gives the prompt directly.
  auto m = load_model(path);
  REQUIRE(m.ok());
  auto ids = (*m)->tokenizer().encode("Hello world");
  std::string list;
  for (int32_t id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
  auto t = json_of(run_cli({"run", path, "--tokens", list, "-n", "12", "--temp", "0", "--ignore-eos", "--json"}));
  CHECK(t["tokens"] == a["tokens"]);

  auto e = json_of(run_cli({"eval", path, "--tokens", list, "--top", "3", "--json"}));
  REQUIRE(e["positions"].size() == ids.size());
  for (const auto& p : e["positions"]) {
    REQUIRE(p["top"].size() == 3);
    CHECK(p["top"][0]["logit"].get<double>() >= p["top"][1]["logit"].get<double>());
    CHECK(p["top"][1]["logit"].get<double>() >= p["top"][2]["logit"].get<double>());
  }
  // The last position's best token is what greedy generation chose first.
  CHECK(e["positions"].back()["top"][0]["id"] == a["tokens"][0]);
  auto text = run_cli({"eval", path, "--tokens", list, "--top", "2"});
  CHECK(text.exit_code == 0);
  CHECK(std::count(text.out.begin(), text.out.end(), '\n') == static_cast<long>(ids.size()));
}

TEST_CASE("an empty prompt runs from BOS alone where the model adds BOS; --prompt= does not take the next argument") {
  mstest::TempDir tmp;
  auto spm = make_model(tmp / "spm.gguf", {"--dim", "128", "--heads", "4", "--type", "Q8_0", "--seed", "11"});
  auto m = load_model(spm);
  REQUIRE(m.ok());
  REQUIRE((*m)->tokenizer().adds_bos());
  const std::string bos = std::to_string((*m)->tokenizer().bos());
  auto from_bos = json_of(run_cli({"run", spm, "--tokens", bos, "-n", "5", "--temp", "0", "--ignore-eos", "--json"}));
  for (const std::vector<std::string>& spelling : {std::vector<std::string>{"--prompt="},
                                                   std::vector<std::string>{"-p", ""},
                                                   std::vector<std::string>{"--prompt", ""}}) {
    std::vector<std::string> argv = {"run", spm};
    argv.insert(argv.end(), spelling.begin(), spelling.end());
    for (const char* a : {"-n", "5", "--temp", "0", "--ignore-eos", "--json"}) argv.push_back(a);
    CAPTURE(spelling[0]);
    auto r = json_of(run_cli(argv));
    CHECK(r["prompt_tokens"] == 1);
    CHECK(r["tokens"] == from_bos["tokens"]);
  }
  // --prompt= right before the model path: the path stays the model, not the prompt.
  auto e = json_of(run_cli({"eval", "--prompt=", spm, "--top", "2", "--json"}));
  CHECK(e["tokens"] == nlohmann::json::array({(*m)->tokenizer().bos()}));

  // A byte-level BPE model that adds no BOS has nothing to run on.
  auto bpe = make_model(tmp / "bpe.gguf", {"--dim", "128", "--heads", "4", "--type", "Q8_0", "--tokenizer", "gpt2",
                                           "--seed", "12"});
  auto none = run_cli({"run", bpe, "--prompt=", "-n", "2"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("no tokens") != std::string::npos);
}

TEST_CASE("Q5_K, Q3_K, Q2_K and IQ4_XS files run: greedy tokens are the reference's best") {
  mstest::TempDir tmp;
  for (const char* type : {"Q5_K", "Q3_K", "Q2_K", "IQ4_XS"}) {
    CAPTURE(type);
    auto path = make_model(tmp / (std::string(type) + ".gguf"),
                           {"--dim", "256", "--ffn", "512", "--heads", "4", "--kv-heads", "2", "--type", type,
                            "--seed", "11"});
    const std::vector<int32_t> prompt = {1, 17, 200, 33};
    auto r = json_of(run_cli({"run", path, "--tokens", "1,17,200,33", "-n", "8", "--temp", "0", "--ignore-eos",
                              "--json"}));
    REQUIRE(r["tokens"].size() == 8);
    auto m = load_model(path);
    REQUIRE(m.ok());
    CHECK((*m)->weights().layers[0].ffn_down.type == *ggml_type_from_name(type));
    // The reference over the dequantized weights, on the prompt and what was generated, picks
    // each generated token at the position before it.
    std::vector<int32_t> seq = prompt;
    for (size_t i = 0; i + 1 < r["tokens"].size(); ++i) seq.push_back(r["tokens"][i].get<int32_t>());
    auto tm = mstest::reference_from(*m);
    auto want = mstest::reference_logits(tm, seq);
    const size_t V = (*m)->config().n_vocab;
    for (size_t i = 0; i < 8; ++i) {
      const float* row = want.data() + (prompt.size() - 1 + i) * V;
      CHECK(int32_t(std::max_element(row, row + V) - row) == r["tokens"][i].get<int32_t>());
    }
    if (std::string(type) == "Q3_K") {  // bench takes them too (one type: bench measures the machine)
      auto b = json_of(run_cli({"bench", path, "-p", "8", "-n", "2", "--json"}, std::chrono::seconds(180)));
      CHECK(b["decode_tokens_per_s"]["wall"].get<double>() > 0);
    }
  }
}

TEST_CASE("bad input: clear errors and exit codes") {
  mstest::TempDir tmp;
  auto path = make_model(tmp / "m.gguf", {"--type", "Q4_0", "--seed", "2"});
  CHECK(run_cli({"run", (tmp / "missing.gguf").string(), "-p", "x"}).exit_code == 6);
  CHECK(run_cli({"run", path}).exit_code == 2);                           // no prompt
  CHECK(run_cli({"run", path, "-p", "x", "--kernel", "mmx"}).exit_code == 2);
  CHECK(run_cli({"run", path, "--tokens", "1,x"}).exit_code == 2);
  CHECK(run_cli({"run", path, "--tokens", "1,999999"}).exit_code == 2);  // out of the vocabulary
  CHECK(run_cli({"eval", path, "--tokens", "1", "--top", "0"}).exit_code == 2);

  auto q81 = tmp / "q81.gguf";
  rewrite_gguf(path, q81, [](GgufWriter&) {}, "blk.1.ffn_down.weight", GgmlType::Q8_1);
  auto r = run_cli({"run", q81.string(), "-p", "x"});
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("blk.1.ffn_down.weight") != std::string::npos);
  CHECK(r.err.find("Q8_1") != std::string::npos);

  auto arch = tmp / "arch.gguf";
  rewrite_gguf(path, arch, [](GgufWriter& w) { w.metadata().set("general.architecture", MetaValue::string("falcon")); },
               "", GgmlType::F32);
  r = run_cli({"run", arch.string(), "-p", "x"});
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("falcon") != std::string::npos);

  std::string bytes = mstest::read_file(path);
  mstest::write_file((tmp / "trunc.gguf").string(), bytes.substr(0, bytes.size() / 2));
  r = run_cli({"eval", (tmp / "trunc.gguf").string(), "--tokens", "1"});
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("trunc.gguf") != std::string::npos);
}

TEST_CASE("a release directory is verified before running, and only once while unchanged") {
  mstest::ReleaseEnv env;
  env.keygen("k1");
  fs::path dir = env.tmp / "rel";
  fs::create_directories(dir);
  make_model(dir / "model.gguf", {"--type", "Q8_0", "--seed", "6"});
  REQUIRE(run_cli({"pack", dir.string(), "--key", env.key("k1"), "--name", "tiny", "--version", "1"}).exit_code == 0);

  // Not trusted yet: a trust failure that names --trust, which run, bench and eval take.
  auto untrusted = run_cli({"run", dir.string(), "-p", "hi", "-n", "2"});
  CHECK(untrusted.exit_code == 3);
  CHECK(untrusted.err.find("--trust") != std::string::npos);
  CHECK(run_cli({"eval", dir.string(), "--tokens", "1,2", "--trust", "RWbogus"}).exit_code == 2);
  REQUIRE(run_cli({"trust", "add", env.pub("k1")}).exit_code == 0);
  auto first = run_cli({"run", dir.string(), "-p", "hi", "-n", "2", "--temp", "0"});
  CHECK(first.exit_code == 0);
  CHECK(first.err.find("verifying release") != std::string::npos);
  auto second = run_cli({"run", dir.string(), "-p", "hi", "-n", "2", "--temp", "0"});
  CHECK(second.exit_code == 0);
  CHECK(second.err.find("verified before") != std::string::npos);
  CHECK(second.out == first.out);
  fs::path home = env.home;
  fs::remove_all(home / "trusted_keys");  // --trust alone suffices for run, bench and eval
  CHECK(run_cli({"eval", dir.string(), "--tokens", "1,2", "--trust", env.pub("k1")}).exit_code == 0);
  CHECK(run_cli({"bench", dir.string(), "-p", "4", "-n", "2", "--trust", env.pub("k1")}).exit_code == 0);
  REQUIRE(run_cli({"trust", "add", env.pub("k1")}).exit_code == 0);

  // One changed byte (same size): verification runs again and fails.
  std::string bytes = mstest::read_file((dir / "model.gguf").string());
  bytes[bytes.size() - 10] ^= 0x5A;
  mstest::write_file((dir / "model.gguf").string(), bytes);
  auto bad = run_cli({"run", dir.string(), "-p", "hi", "-n", "2"});
  CHECK(bad.exit_code == 4);
  CHECK(bad.out.empty());
}

TEST_CASE("bench reports speeds and shares of the measured limits") {
  mstest::TempDir tmp;
  auto path = make_model(tmp / "m.gguf", {"--dim", "256", "--ffn", "512", "--heads", "4", "--type", "Q4_0",
                                          "--output-type", "Q6_K", "--seed", "8"});
  auto j = json_of(run_cli({"bench", path, "-p", "16", "-n", "4", "--threads", "2", "--json"}, std::chrono::seconds(180)));
  for (const char* basis : {"wall", "cpu"}) {
    CAPTURE(basis);
    CHECK(j["prefill_tokens_per_s"][basis].get<double>() > 0);
    CHECK(j["decode_tokens_per_s"][basis].get<double>() > 0);
    // Positive, not fast: speed floors belong to scripts/bench_kernels.sh, not to CI.
    CHECK(j["memory_read_bytes_per_s"][basis].get<double>() > 0);
    CHECK(j["peak_int8_ops_per_s"][basis].get<double>() > 0);
    double limit = j["memory_read_bytes_per_s"][basis].get<double>() / j["weight_bytes_per_token"].get<double>();
    CHECK(j["decode_bandwidth_share"][basis].get<double>() ==
          doctest::Approx(j["decode_tokens_per_s"][basis].get<double>() / limit).epsilon(1e-6));
  }
  auto m = load_model(path);
  REQUIRE(m.ok());
  CHECK(j["weight_bytes_per_token"] == (*m)->bytes_per_token());
  CHECK(j["decode_depth"] == 16);
  // Decode at a depth: the context is filled past the prompt before the timed steps.
  auto deep = json_of(run_cli({"bench", path, "-p", "16", "-n", "4", "-d", "70", "--threads", "2", "--json"},
                              std::chrono::seconds(180)));
  CHECK(deep["decode_depth"] == 70);
  CHECK(deep["prompt_tokens"] == 16);
  CHECK(deep["decode_tokens_per_s"]["wall"].get<double>() > 0);
  auto text = run_cli({"bench", path, "-p", "8", "-n", "2"}, std::chrono::seconds(180));
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("decode share") != std::string::npos);
  CHECK(run_cli({"bench", path, "-n", "0"}).exit_code == 2);
}
