// Choosing the next token from logits, with llama.cpp's semantics: repeat penalty over the last
// tokens (positive logits divided, negative multiplied), then top-k, top-p (smallest set whose
// probability reaches p), temperature, and a draw from the seeded generator. temp <= 0: greedy.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <span>

namespace modelswarm {

struct SamplerParams {
  float temperature = 0.8f;
  int32_t top_k = 40;          // <= 0: all tokens
  float top_p = 0.95f;         // >= 1: off
  float repeat_penalty = 1.0f; // 1: off
  int32_t repeat_last_n = 64;  // tokens the penalty looks back over
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);

  // Records a token (prompt or generated) for the repeat penalty.
  void accept(int32_t token);
  // REQUIRES: !logits.empty(). Does not modify the logits.
  int32_t sample(std::span<const float> logits);

 private:
  SamplerParams p_;
  std::mt19937_64 rng_;
  std::deque<int32_t> recent_;
};

// Index of the largest logit (the lowest index on ties). REQUIRES: !logits.empty().
int32_t argmax(std::span<const float> logits);

}  // namespace modelswarm
