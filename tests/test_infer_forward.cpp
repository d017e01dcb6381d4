// The forward pass against the reference implementation in infer_test_model.hpp, on small
// random models: GQA, tied embeddings, qwen2 biases and NEOX RoPE, every weight type, RoPE
// scaling; prefill (batched) and decode (one token at a time) paths; determinism; scalar vs SIMD.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

#include "infer/attention.hpp"
#include "infer_test_model.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"
#include "generate_helpers.hpp"
#include "test_env.hpp"

using namespace modelswarm;
using mstest::TestModelSpec;

namespace {

using mstest::sanitized;

std::vector<int32_t> some_tokens(size_t n, uint32_t n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = static_cast<int32_t>(rng() % n_vocab);
  return t;
}

// Compares engine logits with the reference: close everywhere, and the same best token
// wherever the reference's best is clear of the runner-up by more than twice the largest
// difference seen at that position (most positions must be so).
void check_logits(const float* got, const float* want, size_t n_pos, size_t V, float tol_rel) {
  size_t decided = 0;
  for (size_t p = 0; p < n_pos; ++p) {
    const float* g = got + p * V;
    const float* w = want + p * V;
    float scale = 0, worst = 0;
    for (size_t i = 0; i < V; ++i) scale = std::max(scale, std::abs(w[i]));
    for (size_t i = 0; i < V; ++i) worst = std::max(worst, std::abs(g[i] - w[i]));
    float tol = tol_rel * std::max(1.0f, scale);
    INFO("position " << p << ": max |diff| " << worst << ", logit scale " << scale);
    CHECK(worst <= tol);
    std::vector<float> sorted(w, w + V);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    if (sorted[0] - sorted[1] > 2 * worst) {
      ++decided;
      CHECK(argmax({g, V}) == argmax({w, V}));
    }
  }
  CHECK(decided * 2 >= n_pos);  // the comparison of best tokens must not be vacuous
}

void check_model(const TestModelSpec& spec, float tol_rel) {
  auto tm = mstest::make_test_model(spec);
  const size_t n = sanitized() ? 6 : 12;
  auto tokens = some_tokens(n, spec.n_vocab, spec.seed + 100);
  auto want = mstest::reference_logits(tm, tokens);
  const size_t V = spec.n_vocab;

  auto ctx = Context::create(tm.model, ContextOptions{64, 2});
  REQUIRE(ctx.ok());
  SUBCASE("prefill: the whole prompt in one batch") {
    auto got = (*ctx)->eval(tokens, true);
    REQUIRE(got.ok());
    REQUIRE(got->size() == n * V);
    check_logits(got->data(), want.data(), n, V, tol_rel);
  }
  SUBCASE("decode: one token at a time") {
    std::vector<float> got;
    for (int32_t t : tokens) {
      int32_t one[1] = {t};
      auto r = (*ctx)->eval(one);
      REQUIRE(r.ok());
      got.insert(got.end(), r->begin(), r->end());
    }
    check_logits(got.data(), want.data(), n, V, tol_rel);
  }
  SUBCASE("a prompt split in two batches") {
    std::vector<int32_t> a(tokens.begin(), tokens.begin() + n / 2), b(tokens.begin() + n / 2, tokens.end());
    REQUIRE((*ctx)->eval(a).ok());
    auto got = (*ctx)->eval(b, true);
    REQUIRE(got.ok());
    check_logits(got->data(), want.data() + (n / 2) * V, n - n / 2, V, tol_rel);
  }
}

}  // namespace

TEST_CASE("llama, Q4_0 layers, Q6_K output, GQA 8:2") {
  TestModelSpec s;
  check_model(s, 2e-2f);
}

TEST_CASE("llama, Q8_0 layers, tied Q8_0 embeddings, no GQA") {
  TestModelSpec s;
  s.layer_type = GgmlType::Q8_0;
  s.tied = true;
  s.n_head_kv = 8;
  s.seed = 2;
  check_model(s, 2e-2f);
}

TEST_CASE("llama, Q4_K layers, F32 output, linear RoPE scaling and llama3 frequency factors") {
  TestModelSpec s;
  s.layer_type = GgmlType::Q4_K;
  s.output_type = GgmlType::F32;
  s.rope_freq_scale = 0.25f;
  s.rope_factors = true;
  s.seed = 3;
  check_model(s, 2e-2f);
}

TEST_CASE("qwen2: q/k/v biases, NEOX RoPE, F16 layers, tied F16 embeddings, GQA 8:4") {
  TestModelSpec s;
  s.arch = Architecture::qwen2;
  s.layer_type = GgmlType::F16;
  s.embd_type = GgmlType::F16;
  s.tied = true;
  s.n_head_kv = 4;
  s.seed = 4;
  check_model(s, 2e-2f);
}

TEST_CASE("qwen3: QK-norm, NEOX RoPE, heads wider than n_embd / n_head, GQA 8:2") {
  TestModelSpec s;
  s.arch = Architecture::qwen3;
  s.head_dim = 64;  // 8 heads of 64 in 256: q has 512 rows, as Qwen3-0.6B's 16 x 128 in 1024
  s.layer_type = GgmlType::Q8_0;
  s.seed = 8;
  check_model(s, 2e-2f);
  s.head_dim = 16;  // and narrower
  s.layer_type = GgmlType::F16;
  s.seed = 9;
  check_model(s, 2e-2f);
}

namespace {

// 7 layers: layer 5 is the global one, the others attend through a window of n_swa.
TestModelSpec gemma3_spec(uint32_t n_swa, GgmlType layer_type, uint32_t seed) {
  TestModelSpec s;
  s.arch = Architecture::gemma3;
  s.n_layer = 7;
  s.n_swa = n_swa;
  s.layer_type = layer_type;
  s.seed = seed;
  return s;
}

}  // namespace

TEST_CASE("gemma3: sliding window on 6 of 7 layers, local RoPE base, post-norms, GELU, scaled tied embeddings") {
  // A window of 4, shorter than the 12-token prompt: the window decides.
  TestModelSpec s = gemma3_spec(4, GgmlType::Q8_0, 10);
  s.head_dim = 64;   // 8 heads of 64 in 256, as gemma3's 256-wide heads
  s.tied = true;
  s.rope_freq_scale = 0.125f;  // linear scaling of the global layer only
  check_model(s, 2e-2f);
  s.layer_type = GgmlType::Q4_K;
  s.head_dim = 0;
  s.tied = false;
  s.seed = 11;
  check_model(s, 2e-2f);
}

TEST_CASE("gemma3: the window is what the engine attends through (a wider one gives other logits)") {
  TestModelSpec s = gemma3_spec(3, GgmlType::F16, 12);
  auto tm = mstest::make_test_model(s);
  auto tokens = some_tokens(10, s.n_vocab, 7);
  auto ctx = Context::create(tm.model, ContextOptions{64, 2});
  REQUIRE(ctx.ok());
  auto got = (*ctx)->eval(tokens, true);
  REQUIRE(got.ok());
  auto narrow = mstest::reference_logits(tm, tokens);
  tm.config.n_swa = 64;
  auto wide = mstest::reference_logits(tm, tokens);
  const size_t V = s.n_vocab, last = (tokens.size() - 1) * V;
  float to_narrow = 0, to_wide = 0;
  for (size_t i = 0; i < V; ++i) {
    to_narrow = std::max(to_narrow, std::abs((*got)[last + i] - narrow[last + i]));
    to_wide = std::max(to_wide, std::abs((*got)[last + i] - wide[last + i]));
  }
  // Within the window both agree (positions < n_swa see everything).
  for (size_t i = 0; i < V; ++i) CHECK(narrow[i] == wide[i]);
  CHECK(to_narrow < 0.05f);
  CHECK(to_wide > 10 * to_narrow);
}

TEST_CASE("qwen2, BF16 and Q6_K layers, F32 weights") {
  TestModelSpec s;
  s.arch = Architecture::qwen2;
  s.layer_type = GgmlType::BF16;
  s.embd_type = GgmlType::F32;
  s.seed = 5;
  check_model(s, 2e-2f);
  s.layer_type = GgmlType::Q6_K;
  s.seed = 6;
  check_model(s, 2e-2f);
  s.layer_type = GgmlType::F32;
  s.seed = 7;
  check_model(s, 2e-2f);
}

TEST_CASE("llama and qwen2 with Q5_K, Q3_K, Q2_K and IQ4_XS layers") {
  uint32_t seed = 20;
  for (GgmlType t : {GgmlType::Q5_K, GgmlType::Q3_K, GgmlType::Q2_K, GgmlType::IQ4_XS}) {
    CAPTURE(ggml_type_name(t));
    TestModelSpec s;
    s.layer_type = t;
    s.output_type = t;
    s.arch = seed % 2 ? Architecture::qwen2 : Architecture::llama;
    s.seed = seed++;
    check_model(s, 2e-2f);
  }
}

using mstest::greedy;

TEST_CASE("greedy generation is deterministic, and scalar and SIMD kernels agree") {
  TestModelSpec s;
  s.seed = 9;
  GgmlType type = GgmlType::Q4_0;
  SUBCASE("Q4_0") {}
  SUBCASE("Q5_K") { type = GgmlType::Q5_K; }
  SUBCASE("Q3_K") { type = GgmlType::Q3_K; }
  SUBCASE("Q2_K") { type = GgmlType::Q2_K; }
  SUBCASE("IQ4_XS") { type = GgmlType::IQ4_XS; }
  s.layer_type = type;
  auto tm = mstest::make_test_model(s);
  auto prompt = some_tokens(5, s.n_vocab, 77);
  const int n = sanitized() ? 6 : 16;
  auto a = greedy(tm.model, prompt, n);
  auto b = greedy(tm.model, prompt, n);
  CHECK(a == b);
  // The reference picks the same tokens, but for near ties: where its best two logits are
  // within the engine's rounding (1% of the logit scale), the engine may take either.
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), a.begin(), a.end() - 1);
  auto ref = mstest::reference_logits(tm, seq);
  int exact = 0;
  for (int i = 0; i < n; ++i) {
    const float* row = ref.data() + (prompt.size() - 1 + i) * s.n_vocab;
    const float best = row[argmax({row, s.n_vocab})];
    float scale = 1;
    for (uint32_t v = 0; v < s.n_vocab; ++v) scale = std::max(scale, std::abs(row[v]));
    CAPTURE(i);
    CHECK(row[a[i]] >= best - 1e-2f * scale);
    exact += row[a[i]] == best;
  }
  CHECK(exact >= n - 2);

  REQUIRE(set_kernel_isa("scalar").ok());
  auto c = greedy(tm.model, prompt, n);
  REQUIRE(set_kernel_isa("auto").ok());
  CHECK(c == a);
}

// The grouped AVX2 kernel takes heads in blocks of 8, 4, 2 and 1 and positions in blocks of
// 8 / heads: group sizes that use each block, and position counts around those blocks, against
// the scalar path, head by head.
TEST_CASE("GQA attention: the AVX2 path gives every head of a group the scalar path's result") {
  if (!kernel_isa_supported(KernelIsa::avx2)) return;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (uint32_t head_dim : {64u, 128u, 256u}) {
    for (uint32_t n_q : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 12u}) {
      for (uint32_t n_kv : {1u, 3u, 8u, 9u, 37u, 300u}) {
        const size_t stride = head_dim * 3;  // other KV heads' columns in between
        std::vector<uint16_t> k(n_kv * stride), v(n_kv * stride);
        for (auto& x : k) x = fp32_to_fp16(nd(rng));
        for (auto& x : v) x = fp32_to_fp16(nd(rng));
        std::vector<float> q(size_t(n_q) * head_dim);
        for (auto& x : q) x = 2 * nd(rng);
        std::vector<float> scratch(infer::attend_scratch_floats(n_q, n_kv, head_dim));
        std::vector<float> want(q.size(), -1), got(q.size(), -2);
        infer::AttendArgs a{q.data(), n_q, k.data(), v.data(), stride, n_kv, head_dim,
                            1.0f / std::sqrt(float(head_dim)), want.data(), scratch.data()};
        infer::attend_scalar(a);
        a.out = got.data();
        infer::attend_avx2(a);
        CAPTURE(head_dim);
        CAPTURE(n_q);
        CAPTURE(n_kv);
        // A score one rounding apart can round its probability to the neighbouring F16 value,
        // 2^-11 apart relative: the outputs then differ by up to 2^-11 of the largest |v|.
        float vmax = 0, worst = 0;
        for (uint16_t x : v) vmax = std::max(vmax, std::abs(fp16_to_fp32(x)));
        for (size_t i = 0; i < q.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
        CHECK(worst <= vmax / 1024);
      }
    }
  }
}

TEST_CASE("bad calls: empty batch, token out of range, full context") {
  TestModelSpec s;
  s.n_layer = 1;
  auto tm = mstest::make_test_model(s);
  auto ctx = Context::create(tm.model, ContextOptions{4, 1});
  REQUIRE(ctx.ok());
  CHECK((*ctx)->eval(std::vector<int32_t>{}).error().code == ErrorCode::invalid_argument);
  CHECK(!(*ctx)->eval(std::vector<int32_t>{static_cast<int32_t>(s.n_vocab)}).ok());
  CHECK(!(*ctx)->eval(std::vector<int32_t>{-1}).ok());
  CHECK((*ctx)->eval(std::vector<int32_t>{1, 2, 3}).ok());
  CHECK(!(*ctx)->eval(std::vector<int32_t>{1, 2}).ok());
  CHECK((*ctx)->eval(std::vector<int32_t>{4}).ok());
  CHECK((*ctx)->n_past() == 4);
  (*ctx)->reset();
  CHECK((*ctx)->n_past() == 0);
}
