// AVX-512 VNNI dot products of K-quant weights (Q4_K, Q6_K) with Q8_K activations. As in the
// AVX2 file, each super-block's integer sum is exact and scaled with the reference formula.
#include <cstring>

#include "kernels/decode_acts.hpp"
#include "kernels/kquant_scales_simd.hpp"
#include "kernels/quant_internal.hpp"
#include "kernels/simd_avx512.hpp"

namespace modelswarm::kernels {

using namespace avx512;

namespace {
// Decode streams each row once from memory: ask for it ahead of the hardware prefetcher.
template <class Block>
[[MS_TARGET_AVX512]] inline void prefetch_ahead(const Block* b) {
  const char* p = reinterpret_cast<const char*>(b) + 2048;
  for (size_t off = 0; off < sizeof(Block); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}
}  // namespace

// Q4_K with activations in Q4_K order (decode_acts.hpp). Chunk c of the activations meets
// qwords [c, c, 4+c, 4+c, 8+c, 8+c, 12+c, 12+c] of the 128 nibble bytes, shifted by 0 / 4
// alternately: all four chunks accumulate into one register whose lane l is sub-block l/2.
[[MS_TARGET_AVX512]] float dot_q4_k_q8_k_q4k_order_avx512(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ4_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const __m512i shift = _mm512_set_epi64(4, 0, 4, 0, 4, 0, 4, 0);
  const __m128i pairs_of = _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  __m512 acc = _mm512_setzero_ps();
  __m256 mins = _mm256_setzero_ps();
  for (size_t b = 0; b < k / kQK_K; ++b) {
    prefetch_ahead(&w[b]);
    const __m128i sm = q4k_scales_mins(w[b].scales);
    const __m512i q0 = loadu512(w[b].qs), q1 = loadu512(w[b].qs + 64);
    __m512i sum = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m512i idx = _mm512_set_epi64(12 + c, 12 + c, 8 + c, 8 + c, 4 + c, 4 + c, c, c);
      const __m512i levels = _mm512_and_si512(
          _mm512_srlv_epi64(_mm512_permutex2var_epi64(q0, idx, q1), shift), low4);
      sum = _mm512_dpbusd_epi32(sum, levels, loadu512(x[b].qs + 64 * c));
    }
    const __m512i scales = _mm512_cvtepu8_epi32(_mm_shuffle_epi8(sm, pairs_of));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_mullo_epi32(sum, scales)),
                          _mm512_set1_ps(x[b].d * h2f(w[b].d)), acc);
    // The mins meet Σx per 32-element sub-block: adjacent pairs of the 16-element bsums.
    const __m256i sub_sums = _mm256_madd_epi16(loadu256(x[b].bsums), _mm256_set1_epi16(1));
    const __m256i m = _mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8));
    mins = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(sub_sums, m)),
                           _mm256_set1_ps(x[b].d * h2f(w[b].dmin)), mins);
  }
  return _mm512_reduce_add_ps(acc) -
         _mm512_reduce_add_ps(_mm512_insertf32x8(_mm512_setzero_ps(), mins, 0));
}

[[MS_TARGET_AVX512]] float dot_q6_k_q8_k_avx512(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ6_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  const __m256i low4 = _mm256_set1_epi8(0x0f), two_bits = _mm256_set1_epi8(3);
  // Sub-blocks are 16 elements, 4 int32 lanes of a vpdpbusd result: lane i of a register that
  // covers sub-blocks 4g..4g+3 needs scale 4g + i/4.
  const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    prefetch_ahead(&w[b]);
    const __m512i sc32 = _mm512_cvtepi8_epi32(loadu128(w[b].scales));
    __m512i acc = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = loadu256(w[b].ql + 64 * h), ql1 = loadu256(w[b].ql + 64 * h + 32);
      const __m256i qh = loadu256(w[b].qh + 32 * h);
      const __m256i q0 = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                                         _mm256_slli_epi16(_mm256_and_si256(qh, two_bits), 4));
      const __m256i q1 = _mm256_or_si256(
          _mm256_and_si256(ql1, low4),
          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two_bits), 4));
      const __m256i q2 = _mm256_or_si256(
          _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two_bits), 4));
      const __m256i q3 = _mm256_or_si256(
          _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two_bits), 4));
      const __m512i p0 = dot_u8s8(join(q0, q1), loadu512(x[b].qs + 128 * h));
      const __m512i p1 = dot_u8s8(join(q2, q3), loadu512(x[b].qs + 128 * h + 64));
      const __m512i s0 = _mm512_permutexvar_epi32(
          _mm512_add_epi32(spread, _mm512_set1_epi32(8 * h)), sc32);
      const __m512i s1 = _mm512_permutexvar_epi32(
          _mm512_add_epi32(spread, _mm512_set1_epi32(8 * h + 4)), sc32);
      acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p0, s0));
      acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p1, s1));
    }
    // Levels were taken as 0..63: remove 32·Σx per sub-block, exactly, from the Q8_K sums.
    const __m512i bs = _mm512_cvtepi16_epi32(loadu256(x[b].bsums));
    const int corr = _mm512_reduce_add_epi32(_mm512_mullo_epi32(sc32, bs));
    const int sumi = _mm512_reduce_add_epi32(acc) - 32 * corr;
    sum += x[b].d * h2f(w[b].d) * float(sumi);
  }
  return sum;
}

}  // namespace modelswarm::kernels
