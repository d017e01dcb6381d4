// AVX2 dot products of K-quant weights (Q4_K, Q6_K) with Q8_K activations. Each super-block's
// integer sums are exact; Q6_K scales them with the scalar reference's formula (results equal it
// bit for bit), Q4_K adds them up in float lanes (equal up to summation order).
#include "kernels/kquant_scales_simd.hpp"
#include "kernels/quant_internal.hpp"
#include "kernels/simd_avx2.hpp"

namespace modelswarm::kernels {

using namespace avx2;

[[MS_TARGET_AVX2]] float dot_q4_k_q8_k_avx2(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ4_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps(), mins = acc;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    const __m128i sm = q4k_scales_mins(w[b].scales);
    const __m256i sc = k_scales16(sm);
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m256i q = loadu(w[b].qs + 32 * c);
      const __m256i lo = _mm256_and_si256(q, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      sum = k_chunk_sum(sum, lo, hi, x[b].qs, sc, c);
    }
    k_accumulate(sum, sm, x[b].bsums, x[b].d * h2f(w[b].d), x[b].d * h2f(w[b].dmin), acc, mins);
  }
  return hsum(_mm256_sub_ps(acc, mins));
}

[[MS_TARGET_AVX2]] float dot_q6_k_q8_k_avx2(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ6_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  const __m256i low4 = _mm256_set1_epi8(0x0f), two_bits = _mm256_set1_epi8(3);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = loadu(w[b].ql + 64 * h), ql1 = loadu(w[b].ql + 64 * h + 32);
      const __m256i qh = loadu(w[b].qh + 32 * h);
      // Quadrant j of this half: elements 32j..32j+31, i.e. sub-blocks 8h+2j and 8h+2j+1.
      const __m256i lows[4] = {
          _mm256_and_si256(ql0, low4), _mm256_and_si256(ql1, low4),
          _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
          _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4)};
      for (int j = 0; j < 4; ++j) {
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), two_bits);
        const __m256i q = _mm256_or_si256(lows[j], _mm256_slli_epi16(hi, 4));  // 0..63
        const __m256i p = _mm256_maddubs_epi16(q, loadu(x[b].qs + 128 * h + 32 * j));
        const int s = 8 * h + 2 * j;
        const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(w[b].scales[s + 1]),
                                               _mm_set1_epi16(w[b].scales[s]));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale));
      }
    }
    // Levels were taken as 0..63: remove 32·Σx per sub-block, exactly, from the Q8_K sums.
    int corr = 0;
    for (int s = 0; s < 16; ++s) corr += w[b].scales[s] * x[b].bsums[s];
    const int sumi = hsum_i32(acc) - 32 * corr;
    sum += x[b].d * h2f(w[b].d) * float(sumi);
  }
  return sum;
}

}  // namespace modelswarm::kernels
