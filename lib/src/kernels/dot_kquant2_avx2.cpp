// AVX2 dot products of Q5_K, Q3_K, Q2_K and IQ4_XS weights with Q8_K activations. Levels are
// expanded to bytes in element order (unsigned where the format has an offset, which is then
// taken out exactly with the Q8_K sums); each super-block's integer sum equals the scalar
// reference's; Q5_K adds them up in float lanes (equal up to summation order), the others scale
// them with the reference's formula, so results equal it bit for bit.
#include "modelswarm/quant.hpp"
#include "kernels/kquant2_levels.hpp"
#include "kernels/kquant2.hpp"
#include "kernels/kquant_scales_simd.hpp"
#include "kernels/quant_internal.hpp"
#include "kernels/simd_avx2.hpp"

namespace modelswarm::kernels {

using namespace avx2;
using namespace kquant2;

namespace {
// Σ sc[s] · Σ_{e in sub-block s} u[e]·x[e] over the 16 sub-blocks of 16 elements of a Q2_K or
// Q3_K super-block, u being the 2-bit level plus, with hmask, 4 · its high bit.
[[MS_TARGET_AVX2]] inline int two_bit_sum(const uint8_t* qs, const uint8_t* hmask,
                                          const int8_t* x, const int16_t* sc) {
  __m256i acc = _mm256_setzero_si256();
  for (int n = 0; n < 2; ++n) {
    const __m256i q = loadu(qs + 32 * n);
    for (int j = 0; j < 4; ++j) {
      const __m256i u = two_bit_levels(q, hmask, n, j);
      const __m256i p = _mm256_maddubs_epi16(u, loadu(x + 128 * n + 32 * j));
      const int s = 8 * n + 2 * j;
      const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(sc[s + 1]), _mm_set1_epi16(sc[s]));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale));
    }
  }
  return hsum_i32(acc);
}
}  // namespace

[[MS_TARGET_AVX2]] float dot_q5_k_q8_k_avx2(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ5_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  // As Q4_K (dot_kquant_avx2.cpp): sums stay in vector lanes until the end of the row.
  __m256 acc = _mm256_setzero_ps(), mins = acc;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    const __m128i sm = q4k_scales_mins(w[b].scales);
    const __m256i sc = k_scales16(sm);
    const __m256i qh = loadu(w[b].qh);
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m256i q = loadu(w[b].qs + 32 * c);
      __m256i lo, hi;
      q5k_levels(q, qh, c, lo, hi);
      sum = k_chunk_sum(sum, lo, hi, x[b].qs, sc, c);
    }
    k_accumulate(sum, sm, x[b].bsums, x[b].d * h2f(w[b].d), x[b].d * h2f(w[b].dmin), acc, mins);
  }
  return hsum(_mm256_sub_ps(acc, mins));
}

[[MS_TARGET_AVX2]] float dot_q3_k_q8_k_avx2(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ3_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    int16_t sc[16];
    int corr = 0;
    for (int s = 0; s < 16; ++s) {
      sc[s] = int16_t(q3k_scale(w[b].scales, s) - 32);
      corr += sc[s] * x[b].bsums[s];
    }
    // Levels were taken as 0..7: remove 4·Σx per sub-block.
    const int sumi = two_bit_sum(w[b].qs, w[b].hmask, x[b].qs, sc) - 4 * corr;
    sum += x[b].d * h2f(w[b].d) * float(sumi);
  }
  return sum;
}

[[MS_TARGET_AVX2]] float dot_q2_k_q8_k_avx2(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ2_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    int16_t sc[16];
    int summ = 0;
    for (int s = 0; s < 16; ++s) {
      sc[s] = int16_t(w[b].scales[s] & 0x0f);
      summ += (w[b].scales[s] >> 4) * x[b].bsums[s];
    }
    const int sumi = two_bit_sum(w[b].qs, nullptr, x[b].qs, sc);
    sum += x[b].d * (h2f(w[b].d) * float(sumi) - h2f(w[b].dmin) * float(summ));
  }
  return sum;
}

[[MS_TARGET_AVX2]] float dot_iq4_xs_q8_k_avx2(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockIQ4_XS*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  const __m256i codebook = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4NLValues)));
  const __m128i low4 = _mm_set1_epi8(0x0f);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    __m256i acc = _mm256_setzero_si256();
    for (int s = 0; s < 8; ++s) {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs + 16 * s));
      const __m256i idx =
          _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), low4), _mm_and_si128(q, low4));
      const __m256i v = _mm256_shuffle_epi8(codebook, idx);  // signed levels, never 0
      // |v| as unsigned times x with v's sign: pairs stay below 2·127·127.
      const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(v, v),
                                             _mm256_sign_epi8(loadu(x[b].qs + 32 * s), v));
      acc = _mm256_add_epi32(
          acc, _mm256_madd_epi16(p, _mm256_set1_epi16(int16_t(iq4xs_scale(w[b], s) - 32))));
    }
    sum += x[b].d * h2f(w[b].d) * float(hsum_i32(acc));
  }
  return sum;
}

}  // namespace modelswarm::kernels
