// Deterministic weights for generated test models. Every row of every tensor comes from its own
// random stream (seed, HF tensor name, row), so a row is the same whichever file format, thread
// or order produces it: the GGUF and the safetensors copies hold the same numbers.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace testmodel {

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Approximately standard normal: the sum of four 16-bit uniforms (Irwin-Hall), rescaled.
  // One generator call per value keeps a billion-parameter model fast to generate.
  float normal() {
    uint64_t r = next();
    uint32_t sum = static_cast<uint32_t>(r & 0xFFFF) + static_cast<uint32_t>((r >> 16) & 0xFFFF) +
                   static_cast<uint32_t>((r >> 32) & 0xFFFF) + static_cast<uint32_t>(r >> 48);
    constexpr float kMean = 4 * 32767.5f;
    constexpr float kInvStd = 1.0f / 37837.2f;  // sqrt(4 * (65536^2 - 1) / 12)
    return (static_cast<float>(sum) - kMean) * kInvStd;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// How a tensor's values are distributed.
struct Distribution {
  float mean = 0;
  float stddev = 0;
};

// Row `row` (of length n) of the tensor called `hf_name` (the HF name: the stream identity).
inline void generate_row(uint64_t seed, const std::string& hf_name, uint64_t row,
                         Distribution d, float* out, uint64_t n) {
  uint64_t s = seed ^ fnv1a(hf_name);
  s = splitmix64(s) ^ (row * 0xD1B54A32D192ED03ull);
  Rng rng(s);
  for (uint64_t i = 0; i < n; ++i) out[i] = d.mean + d.stddev * rng.normal();
}

// llama.cpp's converter reorders the rows of Q and K (LLaMA-family, not Qwen2) so that RoPE can
// rotate adjacent pairs: within each head of size hd, HF stores the two rotary halves one after
// the other (rows i and i + hd/2 pair up), GGUF interleaves them (rows 2j and 2j+1 pair up).
// Returns the HF row stored at GGUF row `gguf_row`.
inline uint64_t hf_row_for_gguf_row(uint64_t gguf_row, uint64_t head_dim) {
  uint64_t head = gguf_row / head_dim;
  uint64_t r = gguf_row % head_dim;
  uint64_t j = r / 2, half = r % 2;
  return head * head_dim + half * (head_dim / 2) + j;
}

}  // namespace testmodel
