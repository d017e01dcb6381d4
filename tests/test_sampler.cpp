// Sampling semantics: greedy, top-k, top-p, temperature, repeat penalty, seeded determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "modelswarm/sampler.hpp"

using namespace modelswarm;

TEST_CASE("temperature 0 is greedy, lowest index on ties") {
  SamplerParams p;
  p.temperature = 0;
  Sampler s(p);
  std::vector<float> l = {0.1f, 3.0f, -2.0f, 3.0f};
  CHECK(s.sample(l) == 1);
  CHECK(argmax(l) == 1);
}

TEST_CASE("top-k 1 and a tiny top-p always give the best token") {
  std::vector<float> l = {0.5f, 0.4f, 0.45f, 0.1f};
  SamplerParams p;
  p.temperature = 5;
  p.top_k = 1;
  p.top_p = 1;
  Sampler a(p);
  p.top_k = 0;
  p.top_p = 0.01f;
  Sampler b(p);
  for (int i = 0; i < 100; ++i) {
    CHECK(a.sample(l) == 0);
    CHECK(b.sample(l) == 0);
  }
}

TEST_CASE("top-p keeps the smallest set that reaches p") {
  // Probabilities 0.5, 0.3, 0.2: p = 0.7 keeps the first two, never the third.
  std::vector<float> l = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  SamplerParams p;
  p.temperature = 1;
  p.top_k = 0;
  p.top_p = 0.7f;
  p.seed = 11;
  Sampler s(p);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 4000; ++i) counts[s.sample(l)]++;
  CHECK(counts[2] == 0);
  CHECK(counts[0] / 4000.0 == doctest::Approx(0.5 / 0.8).epsilon(0.05));
}

TEST_CASE("draws follow the softmax, and a seed makes them repeat") {
  std::vector<float> l = {std::log(0.25f), std::log(0.75f)};
  SamplerParams p;
  p.temperature = 1;
  p.top_k = 0;
  p.top_p = 1;
  p.seed = 42;
  Sampler a(p), b(p);
  int ones = 0;
  std::vector<int32_t> seq_a, seq_b;
  for (int i = 0; i < 4000; ++i) {
    seq_a.push_back(a.sample(l));
    seq_b.push_back(b.sample(l));
    ones += seq_a.back();
  }
  CHECK(seq_a == seq_b);
  CHECK(ones / 4000.0 == doctest::Approx(0.75).epsilon(0.04));
  p.seed = 43;
  Sampler c(p);
  std::vector<int32_t> seq_c;
  for (int i = 0; i < 4000; ++i) seq_c.push_back(c.sample(l));
  CHECK(seq_c != seq_a);
}

TEST_CASE("repeat penalty divides positive logits and multiplies negative ones") {
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 1.1f;
  Sampler s(p);
  s.accept(0);
  CHECK(s.sample(std::vector<float>{2.0f, 1.9f}) == 1);        // 2.0 / 1.1 < 1.9
  CHECK(s.sample(std::vector<float>{-1.0f, -1.05f}) == 1);     // -1.0 * 1.1 < -1.05
  CHECK(s.sample(std::vector<float>{2.0f, 1.7f}) == 0);        // 1.82 > 1.7
  // Only the last repeat_last_n tokens count.
  p.repeat_last_n = 1;
  Sampler t(p);
  t.accept(0);
  t.accept(1);
  CHECK(t.sample(std::vector<float>{2.0f, 1.9f}) == 0);
}
