// Attention of one query head over the F16 KV cache, with llama.cpp's roundings (non-flash
// path): Q is rounded to F16 for the K products, scores are scaled then soft-maxed, and the
// probabilities are rounded to F16 for the V products.
#pragma once

#include <cstddef>
#include <cstdint>

namespace modelswarm::infer {

struct AttendArgs {
  const float* q;       // head_dim floats
  const uint16_t* k;    // position 0 of this kv head; positions `stride` elements apart
  const uint16_t* v;
  size_t stride;
  uint32_t n_kv;        // positions attended: 0 .. n_kv-1
  uint32_t head_dim;
  float scale;          // 1/sqrt(head_dim)
  float* out;           // head_dim floats
  float* scratch;       // n_kv + head_dim floats
};

void attend_head(const AttendArgs& a);

// Implementations; attend_head picks one by the selected kernel ISA.
void attend_head_scalar(const AttendArgs& a);
void attend_head_avx2(const AttendArgs& a);

// F32 -> F16 for the cache.
void store_f16(const float* x, uint16_t* y, size_t n);

}  // namespace modelswarm::infer
