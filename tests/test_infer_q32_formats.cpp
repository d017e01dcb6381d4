// Q4_1, Q5_0, Q5_1 and IQ4_NL models end to end: `quantize --type` writes them from an HF
// checkpoint, and the engine (prefill, decode, and greedy `run` on every instruction set) agrees
// with the reference forward pass over the dequantized weights (infer_test_model.hpp).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "infer_test_model.hpp"
#include "modelswarm/gguf.hpp"
#include "modelswarm/kernels.hpp"
#include "process.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
namespace fs = std::filesystem;

namespace {
std::vector<int32_t> run_greedy(const fs::path& model, const std::string& prompt, const std::string& isa) {
  auto r = mstest::run_cli({"run", model.string(), "--tokens", prompt, "-n", "10", "--temp", "0",
                            "--ignore-eos", "--json", "--kernel", isa},
                           std::chrono::seconds(120));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out)["tokens"].get<std::vector<int32_t>>();
}

// Largest |got - want| over the logits of position p, and the reference's logit scale there.
std::pair<float, float> worst_diff(const float* got, const float* want, size_t V) {
  float worst = 0, scale = 0;
  for (size_t v = 0; v < V; ++v) {
    worst = std::max(worst, std::abs(got[v] - want[v]));
    scale = std::max(scale, std::abs(want[v]));
  }
  return {worst, scale};
}
}  // namespace

TEST_CASE("quantize --type writes Q4_1, Q5_0, Q5_1 and IQ4_NL; run and eval match the reference") {
  mstest::TempDir d;
  auto gen = mstest::run({std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model", "--hf-dir",
                          (d / "hf").string(), "--seed", "12", "--dim", "256", "--heads", "4",
                          "--layers", "2", "--ffn", "512", "--vocab", "512"},
                         std::chrono::seconds(120));
  REQUIRE_MESSAGE(gen.exit_code == 0, gen.err);
  const std::vector<int32_t> prompt = {1, 17, 200, 33, 45, 99};
  const std::string prompt_list = "1,17,200,33,45,99";
  const struct {
    GgmlType type;
    uint32_t file_type;
  } cases[] = {{GgmlType::Q4_1, 3}, {GgmlType::Q5_0, 8}, {GgmlType::Q5_1, 9}, {GgmlType::IQ4_NL, 25}};
  for (const auto& c : cases) {
    const std::string name = ggml_type_name(c.type);
    CAPTURE(name);
    const fs::path out = d / (name + ".gguf");
    auto q = mstest::run_cli({"quantize", (d / "hf").string(), "-o", out.string(), "--type", name, "--quiet"},
                             std::chrono::seconds(120));
    REQUIRE_MESSAGE(q.exit_code == 0, q.err);
    {
      auto g = read_gguf(out);
      REQUIRE(g.ok());
      CHECK(g->find_tensor("blk.0.attn_q.weight")->type == c.type);
      CHECK(g->find_tensor("blk.1.ffn_down.weight")->type == c.type);
      CHECK(g->find_tensor("output.weight")->type == GgmlType::Q6_K);
      CHECK(g->metadata.u32_or("general.file_type", 0) == c.file_type);
    }

    const auto tokens = run_greedy(out, prompt_list, "auto");
    REQUIRE(tokens.size() == 10);

    // The engine's logits over prompt and generated tokens, in one batch (prefill) and one token
    // at a time (decode), against the reference's.
    auto m = load_model(out);
    REQUIRE(m.ok());
    const size_t V = (*m)->config().n_vocab;
    std::vector<int32_t> seq = prompt;
    seq.insert(seq.end(), tokens.begin(), tokens.end() - 1);
    const auto want = mstest::reference_logits(mstest::reference_from(*m), seq);
    auto batch = Context::create(*m, ContextOptions{64, 2});
    REQUIRE(batch.ok());
    auto prefill = (*batch)->eval(seq, true);
    REQUIRE(prefill.ok());
    auto single = Context::create(*m, ContextOptions{64, 2});
    REQUIRE(single.ok());
    size_t decided = 0;
    for (size_t p = 0; p < seq.size(); ++p) {
      CAPTURE(p);
      auto step = (*single)->eval(std::vector<int32_t>{seq[p]});
      REQUIRE(step.ok());
      const float* w = want.data() + p * V;
      const auto [worst_p, scale] = worst_diff(prefill->data() + p * V, w, V);
      const auto [worst_d, scale_d] = worst_diff(step->data(), w, V);
      // As in test_infer_forward: over many positions a Q8_0 rounding of an activation or an F16
      // rounding in attention may fall the other way than in the reference, and its effect stays
      // in the cache; most positions agree to 1e-6.
      CHECK(worst_p <= 2e-2f * std::max(1.f, scale));
      CHECK(worst_d <= 2e-2f * std::max(1.f, scale_d));
      // Where the reference's best token is clear of the runner-up, greedy chose it.
      if (p + 1 < prompt.size()) continue;
      std::vector<float> sorted(w, w + V);
      std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
      if (sorted[0] - sorted[1] > 2 * std::max(worst_p, worst_d)) {
        ++decided;
        CHECK(tokens[p + 1 - prompt.size()] == int32_t(std::max_element(w, w + V) - w));
      }
    }
    CHECK(decided * 2 >= tokens.size());  // the comparison of tokens must not be vacuous

    // Every instruction set generates the same tokens, up to the first position whose best two
    // reference logits are within the tolerance of each other (after it, the texts may part).
    for (const std::string& isa : supported_kernel_isas()) {
      CAPTURE(isa);
      const auto other = run_greedy(out, prompt_list, isa);
      REQUIRE(other.size() == tokens.size());
      const size_t i = size_t(std::mismatch(tokens.begin(), tokens.end(), other.begin()).first - tokens.begin());
      if (i == tokens.size()) continue;
      const float* w = want.data() + (prompt.size() - 1 + i) * V;
      std::vector<float> sorted(w, w + V);
      std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
      CHECK(sorted[0] - sorted[1] <= 2 * 2e-2f * std::max(1.f, std::abs(sorted[0])));
    }
  }
}
