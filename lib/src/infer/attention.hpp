// Attention of the query heads that share one KV head (a GQA group) over the F16 KV cache, with
// llama.cpp's roundings (non-flash path): Q is rounded to F16 for the K products, scores are
// scaled then soft-maxed, and the probabilities are rounded to F16 for the V products.
#pragma once

#include <cstddef>
#include <cstdint>

namespace modelswarm::infer {

struct AttendArgs {
  const float* q;       // n_q heads of head_dim floats, one after the other
  uint32_t n_q;         // query heads sharing this KV head
  const uint16_t* k;    // position 0 of this kv head; positions `stride` elements apart
  const uint16_t* v;
  size_t stride;
  uint32_t n_kv;        // positions attended: 0 .. n_kv-1
  uint32_t head_dim;
  float scale;          // 1/sqrt(head_dim)
  float* out;           // n_q heads of head_dim floats
  float* scratch;       // attend_scratch_floats(n_q, n_kv, head_dim) floats
};

size_t attend_scratch_floats(uint32_t n_q, uint32_t n_kv, uint32_t head_dim);

// The heads of a group read each K and V row once between them: at 2k positions a head alone
// spent its time widening F16 rows that its group's other heads widened again.
void attend(const AttendArgs& a);

// Implementations; attend picks one by the selected kernel ISA. The AVX2 path sums in another
// order and takes e^x from a polynomial: it matches the scalar one to a few roundings, and a
// probability may then round to the neighbouring F16 value.
void attend_scalar(const AttendArgs& a);
void attend_avx2(const AttendArgs& a);

// F32 -> F16 for the cache.
void store_f16(const float* x, uint16_t* y, size_t n);

}  // namespace modelswarm::infer
