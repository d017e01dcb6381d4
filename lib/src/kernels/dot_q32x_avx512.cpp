// AVX-512 VNNI dot products of Q4_1, Q5_0, Q5_1 and IQ4_NL weights with the Q8_0 pair records of
// decode_acts.hpp (why those: q32_formats.hpp). Two blocks per step, as for Q4_0: the levels
// come out as [a, b, a >> 4, b >> 4] & 15 (plus the fifth bits, or through the codebook), the
// order of the record's values, and one vpdpbusd sums them exactly per dword.
#include <array>

#include "kernels/decode_acts.hpp"
#include "kernels/q32_formats.hpp"
#include "kernels/simd_avx512.hpp"

namespace modelswarm::kernels {

using namespace avx512;

namespace {
constexpr size_t kPrefetchBytes = 2048;

// The two blocks' nibbles, unsigned, in the record's order.
[[MS_TARGET_AVX512]] inline __m512i nibbles(const uint8_t* qa, const uint8_t* qb) {
  const __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(loadu128(qa)), loadu128(qb), 1);
  return _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1),
                          _mm512_set1_epi8(0x0f));
}

// Adds 16 to each level whose fifth bit is set: the bits in the record's order.
template <class B>
[[MS_TARGET_AVX512]] inline __m512i with_fifth_bits(__m512i levels, const B& a, const B& b) {
  const uint64_t ha = q5_high_bits(a.qh), hb = q5_high_bits(b.qh);
  const uint64_t bits = (ha & 0xffff) | (hb & 0xffff) << 16 | (ha >> 16) << 32 | (hb >> 16) << 48;
  return _mm512_mask_add_epi8(levels, _cvtu64_mask64(bits), levels, _mm512_set1_epi8(16));
}

// Lanes 0-3 and 8-11 hold a, 4-7 and 12-15 b: the blocks of the record's dwords.
[[MS_TARGET_AVX512]] inline __m512 pair_halves(uint16_t a, uint16_t b) {
  const __m128i h = _mm_unpacklo_epi64(_mm_set1_epi16(short(a)), _mm_set1_epi16(short(b)));
  return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(h), h, 1));
}

// Formats with a min: unsigned levels q, and m·dx·Σx from the record's -8·Σx.
struct Q4_1 {
  using Block = BlockQ4_1;
  static constexpr int kOffsetShift = -1;
  [[MS_TARGET_AVX512]] static __m512i levels(const Block& a, const Block& b) {
    return nibbles(a.qs, b.qs);
  }
};
struct Q5_1 {
  using Block = BlockQ5_1;
  static constexpr int kOffsetShift = -1;
  [[MS_TARGET_AVX512]] static __m512i levels(const Block& a, const Block& b) {
    return with_fifth_bits(nibbles(a.qs, b.qs), a, b);
  }
};
// Signed formats as unsigned levels plus an offset of 8 << kOffsetShift, whose share the
// record's start values carry once shifted: q + 16 for Q5_0, codebook value + 128 for IQ4_NL.
struct Q5_0 {
  using Block = BlockQ5_0;
  static constexpr int kOffsetShift = 1;
  [[MS_TARGET_AVX512]] static __m512i levels(const Block& a, const Block& b) {
    return with_fifth_bits(nibbles(a.qs, b.qs), a, b);
  }
};
struct IQ4_NL {
  using Block = BlockIQ4_NL;
  static constexpr int kOffsetShift = 4;
  [[MS_TARGET_AVX512]] static __m512i levels(const Block& a, const Block& b) {
    alignas(16) static constexpr auto kLut = [] {
      std::array<uint8_t, 16> t{};
      for (int i = 0; i < 16; ++i) t[size_t(i)] = uint8_t(kIQ4NLValues[i] + 128);
      return t;
    }();
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(loadu128(kLut.data())), nibbles(a.qs, b.qs));
  }
};

template <class F>
[[MS_TARGET_AVX512]] inline __m512 pair(const typename F::Block& a, const typename F::Block& b,
                                        const uint8_t* x, __m512 acc) {
  const __m512i levels = F::levels(a, b), xv = loadu512(x), init = loadu512(x + 64);
  const __m512 dx = _mm512_loadu_ps(x + 128);
  const __m512 d = _mm512_mul_ps(pair_halves(a.d, b.d), dx);
  if constexpr (F::kOffsetShift < 0) {
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot_u8s8(levels, xv)), d, acc);
    const __m512 m = _mm512_mul_ps(pair_halves(a.m, b.m), _mm512_mul_ps(dx, _mm512_set1_ps(-0.125f)));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(init), m, acc);
  } else {
    const __m512i s = _mm512_dpbusd_epi32(_mm512_slli_epi32(init, F::kOffsetShift), levels, xv);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), d, acc);
  }
}

template <class F>
[[MS_TARGET_AVX512]] float dot_pairs(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const typename F::Block*>(vw);
  const auto* x = static_cast<const uint8_t*>(vx);
  const size_t nb = k / kQK8_0;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
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
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}
}  // namespace

[[MS_TARGET_AVX512]] float dot_q4_1_q8_pairs_avx512(size_t k, const void* w, const void* x) {
  return dot_pairs<Q4_1>(k, w, x);
}
[[MS_TARGET_AVX512]] float dot_q5_0_q8_pairs_avx512(size_t k, const void* w, const void* x) {
  return dot_pairs<Q5_0>(k, w, x);
}
[[MS_TARGET_AVX512]] float dot_q5_1_q8_pairs_avx512(size_t k, const void* w, const void* x) {
  return dot_pairs<Q5_1>(k, w, x);
}
[[MS_TARGET_AVX512]] float dot_iq4_nl_q8_pairs_avx512(size_t k, const void* w, const void* x) {
  return dot_pairs<IQ4_NL>(k, w, x);
}

}  // namespace modelswarm::kernels
