// AVX2 dot products of 32-element block formats with Q8_0 activations: Q8_0 by rows, Q4_0 by
// the paired activation records of decode_acts.hpp.
#include "kernels/decode_acts.hpp"
#include "kernels/simd_avx2.hpp"

namespace modelswarm::kernels {

using namespace avx2;

namespace {
// Exact integer sum of one block pair, as 8 int32 lanes.
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
// Two Q4_0 blocks (b zero for an odd last block) against one record of decode_acts.hpp: the
// record's first 32 values meet [qa, qb] & 15 and the next 32 meet [qa, qb] >> 4 & 15, so the
// int32 lanes after vpmaddwd are block a's (0-3) and b's (4-7), with the offset's share in the
// record's start values (dwords l and 8+l of the 512-bit layout).
[[MS_TARGET_AVX2]] inline __m256 pair_q8p(__m128i qa, __m128i qb, uint16_t da, uint16_t db,
                                          const uint8_t* x, __m256 acc) {
  const __m256i q = _mm256_set_m128i(qb, qa), low4 = _mm256_set1_epi8(0x0f);
  // Two products of levels ≤ 15 and |x| ≤ 127 per int16, twice: at most 7620, no saturation.
  const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(q, low4), loadu(x)),
                                     _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4),
                                                          loadu(x + 32)));
  const __m256i init = _mm256_add_epi32(loadu(x + 64), loadu(x + 96));
  const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(p, _mm256_set1_epi16(1)), init);
  const __m256 dw = _mm256_cvtph_ps(_mm_unpacklo_epi64(_mm_set1_epi16(short(da)), _mm_set1_epi16(short(db))));
  const __m256 dx = _mm256_loadu_ps(reinterpret_cast<const float*>(x + 128));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, dx), acc);
}
}  // namespace

[[MS_TARGET_AVX2]] float dot_q4_0_q8_pairs_avx2(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ4_0*>(vw);
  const auto* x = static_cast<const uint8_t*>(vx);
  const size_t nb = k / kQK4_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  size_t b = 0;
  for (; b + 2 <= nb; b += 2, x += kQ8PairBytes) {
    // Decode streams each row once from memory: ask for it ahead of the hardware prefetcher.
    _mm_prefetch(reinterpret_cast<const char*>(&w[b]) + 2048, _MM_HINT_T0);
    const __m128i qa = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs));
    const __m128i qb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b + 1].qs));
    if (b & 2) {
      acc1 = pair_q8p(qa, qb, w[b].d, w[b + 1].d, x, acc1);
    } else {
      acc0 = pair_q8p(qa, qb, w[b].d, w[b + 1].d, x, acc0);
    }
  }
  if (b < nb) {
    acc0 = pair_q8p(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs)), _mm_setzero_si128(),
                    w[b].d, 0, x, acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

[[MS_TARGET_AVX2]] float dot_q8_0_q8_0_avx2(size_t k, const void* w, const void* x) {
  return dot_blocks(k / kQK8_0, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(x));
}

}  // namespace modelswarm::kernels
