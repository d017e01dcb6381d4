// AVX2 dot products of Q4_1, Q5_0, Q5_1 and IQ4_NL weights with the Q8_0 pair records of
// decode_acts.hpp (why those: q32_formats.hpp). Two blocks per step, as for Q4_0: the low
// fields [a, b] meet the record's first 32 values and the high fields the next 32, so int32
// lane l holds dwords l and 8+l of the record, block a's for l < 4 and b's after.
#include "kernels/decode_acts.hpp"
#include "kernels/q32_formats.hpp"
#include "kernels/simd_avx2.hpp"

namespace modelswarm::kernels {

using namespace avx2;

namespace {
constexpr size_t kPrefetchBytes = 2048;

// The two blocks' nibbles, unsigned: low fields in `lo`, high ones in `hi`.
[[MS_TARGET_AVX2]] inline void nibbles(const uint8_t* qa, const uint8_t* qb, __m256i& lo,
                                       __m256i& hi) {
  const __m256i q = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qb)),
                                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(qa)));
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  lo = _mm256_and_si256(q, low4);
  hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
}

// 16 in byte i where bit i of `bits` is set.
[[MS_TARGET_AVX2]] inline __m256i sixteens(uint32_t bits) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
  const __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(int(bits)), spread), bit);
  return _mm256_and_si256(_mm256_cmpeq_epi8(v, bit), _mm256_set1_epi8(16));
}

template <class B>
[[MS_TARGET_AVX2]] inline void q5_levels(const B& a, const B& b, __m256i& lo, __m256i& hi) {
  nibbles(a.qs, b.qs, lo, hi);
  const uint32_t ha = q5_high_bits(a.qh), hb = q5_high_bits(b.qh);
  lo = _mm256_or_si256(lo, sixteens((ha & 0xffff) | hb << 16));
  hi = _mm256_or_si256(hi, sixteens(ha >> 16 | (hb & 0xffff0000u)));
}

enum class Sum {
  min,     // unsigned levels q; m·dx·Σx from the record's -8·Σx
  offset,  // unsigned levels q + 16 (Q5_0); the record's start values, doubled, subtract 16·Σx
  signed_  // signed levels (IQ4_NL's codebook values, up to ±127: vpmaddubsw on |w|)
};

struct Q4_1 {
  using Block = BlockQ4_1;
  static constexpr Sum kSum = Sum::min;
  [[MS_TARGET_AVX2]] static void levels(const Block& a, const Block& b, __m256i& lo, __m256i& hi) {
    nibbles(a.qs, b.qs, lo, hi);
  }
};
struct Q5_1 {
  using Block = BlockQ5_1;
  static constexpr Sum kSum = Sum::min;
  [[MS_TARGET_AVX2]] static void levels(const Block& a, const Block& b, __m256i& lo, __m256i& hi) {
    q5_levels(a, b, lo, hi);
  }
};
struct Q5_0 {
  using Block = BlockQ5_0;
  static constexpr Sum kSum = Sum::offset;
  [[MS_TARGET_AVX2]] static void levels(const Block& a, const Block& b, __m256i& lo, __m256i& hi) {
    q5_levels(a, b, lo, hi);
  }
};
struct IQ4_NL {
  using Block = BlockIQ4_NL;
  static constexpr Sum kSum = Sum::signed_;
  [[MS_TARGET_AVX2]] static void levels(const Block& a, const Block& b, __m256i& lo, __m256i& hi) {
    const __m256i lut = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4NLValues)));
    nibbles(a.qs, b.qs, lo, hi);
    lo = _mm256_shuffle_epi8(lut, lo);
    hi = _mm256_shuffle_epi8(lut, hi);
  }
};

template <class F>
[[MS_TARGET_AVX2]] inline __m256 pair(const typename F::Block& a, const typename F::Block& b,
                                      const uint8_t* x, __m256 acc) {
  __m256i lo, hi;
  F::levels(a, b, lo, hi);
  const __m256i x0 = loadu(x), x1 = loadu(x + 32);
  const __m256i init = _mm256_add_epi32(loadu(x + 64), loadu(x + 96));
  __m256i s;
  if constexpr (F::kSum == Sum::signed_) {
    s = _mm256_add_epi32(dot_i8(lo, x0), dot_i8(hi, x1));
  } else {
    // Two products of levels ≤ 31 and |x| ≤ 127 per int16, twice: at most 15748, no saturation.
    const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, x0), _mm256_maddubs_epi16(hi, x1));
    s = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
    if constexpr (F::kSum == Sum::offset) s = _mm256_add_epi32(s, _mm256_slli_epi32(init, 1));
  }
  const __m256 dx = _mm256_loadu_ps(reinterpret_cast<const float*>(x + 128));
  const __m256 dw = _mm256_cvtph_ps(_mm_unpacklo_epi64(_mm_set1_epi16(short(a.d)), _mm_set1_epi16(short(b.d))));
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, dx), acc);
  if constexpr (F::kSum == Sum::min) {
    const __m256 m = _mm256_cvtph_ps(_mm_unpacklo_epi64(_mm_set1_epi16(short(a.m)), _mm_set1_epi16(short(b.m))));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(init),
                          _mm256_mul_ps(m, _mm256_mul_ps(dx, _mm256_set1_ps(-0.125f))), acc);
  }
  return acc;
}

template <class F>
[[MS_TARGET_AVX2]] float dot_pairs(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const typename F::Block*>(vw);
  const auto* x = static_cast<const uint8_t*>(vx);
  const size_t nb = k / kQK8_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  size_t b = 0;
  for (; b + 2 <= nb; b += 2, x += kQ8PairBytes) {
    // Decode streams each row once from memory: ask for it ahead of the hardware prefetcher.
    _mm_prefetch(reinterpret_cast<const char*>(&w[b]) + kPrefetchBytes, _MM_HINT_T0);
    if (b & 2) {
      acc1 = pair<F>(w[b], w[b + 1], x, acc1);
    } else {
      acc0 = pair<F>(w[b], w[b + 1], x, acc0);
    }
  }
  // An odd last block meets the record's zero block b (values, sums and scale all 0).
  if (b < nb) acc0 = pair<F>(w[b], typename F::Block{}, x, acc0);
  return hsum(_mm256_add_ps(acc0, acc1));
}
}  // namespace

[[MS_TARGET_AVX2]] float dot_q4_1_q8_pairs_avx2(size_t k, const void* w, const void* x) {
  return dot_pairs<Q4_1>(k, w, x);
}
[[MS_TARGET_AVX2]] float dot_q5_0_q8_pairs_avx2(size_t k, const void* w, const void* x) {
  return dot_pairs<Q5_0>(k, w, x);
}
[[MS_TARGET_AVX2]] float dot_q5_1_q8_pairs_avx2(size_t k, const void* w, const void* x) {
  return dot_pairs<Q5_1>(k, w, x);
}
[[MS_TARGET_AVX2]] float dot_iq4_nl_q8_pairs_avx2(size_t k, const void* w, const void* x) {
  return dot_pairs<IQ4_NL>(k, w, x);
}

}  // namespace modelswarm::kernels
