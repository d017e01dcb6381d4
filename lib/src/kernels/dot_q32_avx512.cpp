// AVX-512 VNNI dot products of 32-element block formats with Q8_0 activations: Q8_0 by rows, Q4_0
// by the paired activation records of decode_acts.hpp.
// Two blocks per 512-bit register; an odd last block takes the 256-bit path.
#include "kernels/decode_acts.hpp"
#include "kernels/simd_avx512.hpp"

namespace modelswarm::kernels {

using namespace avx512;

namespace {
#ifndef MS_PREFETCH
#define MS_PREFETCH 2048
#endif
constexpr size_t kPrefetchBytes = MS_PREFETCH;

// Both blocks' fp16 scales as floats: lanes 0-7 the first block's, 8-15 the second's. `blocks`
// holds the words of two consecutive blocks of WordsPerBlock 16-bit words, scale first.
template <int WordsPerBlock>
[[MS_TARGET_AVX512]] inline __m512 pair_scales(__m512i blocks) {
  const __m512i idx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       WordsPerBlock, WordsPerBlock, WordsPerBlock, WordsPerBlock,
                                       WordsPerBlock, WordsPerBlock, WordsPerBlock, WordsPerBlock,
                                       0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(idx, blocks)));
}

// vpdpbusd multiplies unsigned by signed bytes, so weights are used as unsigned levels
// (w+128 for Q8_0) and offset·Σx is subtracted, which keeps every sum exact.
struct Q8Levels {
  static constexpr int8_t kOffset = -128;  // as an unsigned byte: 128
  [[MS_TARGET_AVX512]] static __m256i one(const BlockQ8_0& w) {
    return _mm256_xor_si256(loadu256(w.qs), _mm256_set1_epi8(int8_t(0x80)));
  }
  [[MS_TARGET_AVX512]] static __m512i two(const BlockQ8_0* w, __m512& scales) {
    scales = pair_scales<17>(_mm512_loadu_si512(w));  // 64 of the pair's 68 bytes
    return _mm512_xor_si512(join(loadu256(w[0].qs), loadu256(w[1].qs)),
                            _mm512_set1_epi8(int8_t(0x80)));
  }
};

// An odd last block, on 256-bit registers.
template <class L, class W>
[[MS_TARGET_AVX512]] inline float last_block(const W& w, const BlockQ8_0& x) {
  const __m256i xv = loadu256(x.qs);
  const __m256i z = _mm256_setzero_si256();
  const __m256i s = _mm256_sub_epi32(_mm256_dpbusd_epi32(z, L::one(w), xv),
                                     _mm256_dpbusd_epi32(z, _mm256_set1_epi8(L::kOffset), xv));
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
  return float(_mm_cvtsi128_si32(t)) * (h2f(w.d) * h2f(x.d));
}

template <class L, class W>
[[MS_TARGET_AVX512]] inline float dot_blocks(size_t nb, const W* w, const BlockQ8_0* x) {
  const __m512i offset = _mm512_set1_epi8(L::kOffset);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
  size_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    // Decode streams each row once from memory: ask for it ahead of the hardware prefetcher.
    _mm_prefetch(reinterpret_cast<const char*>(&w[b]) + kPrefetchBytes, _MM_HINT_T0);
    __m512 dw;
    const __m512i levels = L::two(&w[b], dw);
    const __m512i xv = join(loadu256(x[b].qs), loadu256(x[b + 1].qs));
    const __m512i s = _mm512_sub_epi32(dot_u8s8(levels, xv), dot_u8s8(offset, xv));
    // 64 of the pair's 68 bytes: both scales (words 0 and 17), never past the row.
    const __m512 d = _mm512_mul_ps(dw, pair_scales<17>(_mm512_loadu_si512(&x[b])));
    if (b & 2) {
      acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc1);
    } else {
      acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc0);
    }
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (b < nb) sum += last_block<L>(w[b], x[b]);
  return sum;
}

// Two Q4_0 blocks (b zero for an odd last block) against one record of decode_acts.hpp. The
// activations are laid out so that the levels are [qa, qb, qa >> 4, qb >> 4] & 15, with the
// offset already in the record's int32 start values: one shift, two inserts, one vpdpbusd.
[[MS_TARGET_AVX512]] inline __m512 pair_q8p(__m128i qa, __m128i qb, uint16_t da, uint16_t db,
                                            const uint8_t* x, __m512 acc) {
  const __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(qa), qb, 1);
  const __m512i levels = _mm512_and_si512(
      _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1),
      _mm512_set1_epi8(0x0f));
  const __m128i h = _mm_unpacklo_epi64(_mm_set1_epi16(short(da)), _mm_set1_epi16(short(db)));
  const __m512 dw = _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(h), h, 1));
  const __m512i s = _mm512_dpbusd_epi32(loadu512(x + 64), levels, loadu512(x));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_loadu_ps(x + 128)), acc);
}
}  // namespace

[[MS_TARGET_AVX512]] float dot_q4_0_q8_pairs_avx512(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ4_0*>(vw);
  const auto* x = static_cast<const uint8_t*>(vx);
  const size_t nb = k / kQK4_0;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
  size_t b = 0;
  for (; b + 2 <= nb; b += 2, x += kQ8PairBytes) {
    // Decode streams each row once from memory: ask for it ahead of the hardware prefetcher.
    _mm_prefetch(reinterpret_cast<const char*>(&w[b]) + kPrefetchBytes, _MM_HINT_T0);
    if (b & 2) {
      acc1 = pair_q8p(loadu128(w[b].qs), loadu128(w[b + 1].qs), w[b].d, w[b + 1].d, x, acc1);
    } else {
      acc0 = pair_q8p(loadu128(w[b].qs), loadu128(w[b + 1].qs), w[b].d, w[b + 1].d, x, acc0);
    }
  }
  if (b < nb) acc0 = pair_q8p(loadu128(w[b].qs), _mm_setzero_si128(), w[b].d, 0, x, acc0);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

[[MS_TARGET_AVX512]] float dot_q8_0_q8_0_avx512(size_t k, const void* w, const void* x) {
  return dot_blocks<Q8Levels>(k / kQK8_0, static_cast<const BlockQ8_0*>(w),
                              static_cast<const BlockQ8_0*>(x));
}

}  // namespace modelswarm::kernels
