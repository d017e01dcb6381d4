// AVX2 dot products of 32-element block formats (Q4_0, Q8_0) with Q8_0 activations.
#include "kernels/simd_avx2.hpp"

namespace modelswarm::kernels {

using namespace avx2;

namespace {
// Exact integer sum of one block pair, as 8 int32 lanes.
[[MS_TARGET_AVX2]] inline __m256i block_sum(const BlockQ4_0& w, const BlockQ8_0& x) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.qs));
  // Low nibbles are elements 0-15, high nibbles 16-31: the order of the activation bytes.
  __m256i wq = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
  wq = _mm256_sub_epi8(wq, _mm256_set1_epi8(8));
  return dot_i8(wq, loadu(x.qs));
}

[[MS_TARGET_AVX2]] inline __m256i block_sum(const BlockQ8_0& w, const BlockQ8_0& x) {
  return dot_i8(loadu(w.qs), loadu(x.qs));
}

template <class W>
[[MS_TARGET_AVX2]] inline float dot_blocks(size_t nb, const W* w, const BlockQ8_0* x) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  size_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_sum(w[b], x[b])),
                           _mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_sum(w[b + 1], x[b + 1])),
                           _mm256_set1_ps(h2f(w[b + 1].d) * h2f(x[b + 1].d)),
                           acc1);
  }
  if (b < nb) {
    acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_sum(w[b], x[b])),
                           _mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}
}  // namespace

[[MS_TARGET_AVX2]] float dot_q4_0_q8_0_avx2(size_t k, const void* w, const void* x) {
  return dot_blocks(k / kQK4_0, static_cast<const BlockQ4_0*>(w), static_cast<const BlockQ8_0*>(x));
}

[[MS_TARGET_AVX2]] float dot_q8_0_q8_0_avx2(size_t k, const void* w, const void* x) {
  return dot_blocks(k / kQK8_0, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(x));
}

}  // namespace modelswarm::kernels
