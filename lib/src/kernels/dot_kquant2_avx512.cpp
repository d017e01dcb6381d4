// AVX-512 VNNI dot products of Q5_K, Q3_K, Q2_K and IQ4_XS weights with Q8_K activations: 64
// unsigned levels in element order meet 64 activations in one vpdpbusd, whose 16 int32 lanes
// are then weighted with their sub-block's scale. Offsets (Q3_K's 4, IQ4_XS's 128) come off
// exactly through the Q8_K sums, so each super-block's integer sum is the scalar reference's.
#include "modelswarm/quant.hpp"
#include "kernels/kquant2_levels.hpp"
#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"
#include "kernels/simd_avx512.hpp"

namespace modelswarm::kernels {

using namespace avx512;
using namespace kquant2;

namespace {
// Lanes 0-7 a, 8-15 b: the scales of two 32-element sub-blocks over one vpdpbusd result.
[[MS_TARGET_AVX512]] inline __m512i two_scales(int a, int b) {
  return join(_mm256_set1_epi32(a), _mm256_set1_epi32(b));
}

// Σ sc[s] · Σ_{e in sub-block s} u[e]·x[e] over the 16 sub-blocks of 16 elements of a Q2_K or
// Q3_K super-block, u being the 2-bit level plus, with hmask, 4 · its high bit. sc: 16 int32.
[[MS_TARGET_AVX512]] inline int two_bit_sum(const uint8_t* qs, const uint8_t* hmask,
                                            const int8_t* x, __m512i sc) {
  // Lane i of a result over sub-blocks 4g..4g+3 needs scale 4g + i/4.
  const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  __m512i acc = _mm512_setzero_si512();
  for (int g = 0; g < 4; ++g) {
    const int n = g / 2;
    const __m256i q = loadu256(qs + 32 * n);
    __m256i u[2];
    for (int i = 0; i < 2; ++i) u[i] = two_bit_levels(q, hmask, n, 2 * (g % 2) + i);
    const __m512i p = dot_u8s8(join(u[0], u[1]), loadu512(x + 64 * g));
    const __m512i s = _mm512_permutexvar_epi32(_mm512_add_epi32(spread, _mm512_set1_epi32(4 * g)), sc);
    acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p, s));
  }
  return _mm512_reduce_add_epi32(acc);
}
}  // namespace

[[MS_TARGET_AVX512]] float dot_q5_k_q8_k_avx512(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ5_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    uint8_t sc[8];
    const int summ = k_scales_min_sum(w[b].scales, x[b].bsums, sc);
    const __m256i qh = loadu256(w[b].qh);
    __m512i acc = _mm512_setzero_si512();
    for (int c = 0; c < 4; ++c) {
      const __m256i q = loadu256(w[b].qs + 32 * c);
      __m256i lo, hi;
      q5k_levels(q, qh, c, lo, hi);
      const __m512i p = dot_u8s8(join(lo, hi), loadu512(x[b].qs + 64 * c));
      acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p, two_scales(sc[2 * c], sc[2 * c + 1])));
    }
    const int sumi = _mm512_reduce_add_epi32(acc);
    sum += x[b].d * (h2f(w[b].d) * float(sumi) - h2f(w[b].dmin) * float(summ));
  }
  return sum;
}

[[MS_TARGET_AVX512]] float dot_q3_k_q8_k_avx512(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ3_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    alignas(64) int32_t sc[16];
    for (int s = 0; s < 16; ++s) sc[s] = q3k_scale(w[b].scales, s) - 32;
    const __m512i sc32 = _mm512_load_si512(sc);
    // Levels were taken as 0..7: remove 4·Σx per sub-block.
    const int corr = _mm512_reduce_add_epi32(
        _mm512_mullo_epi32(sc32, _mm512_cvtepi16_epi32(loadu256(x[b].bsums))));
    const int sumi = two_bit_sum(w[b].qs, w[b].hmask, x[b].qs, sc32) - 4 * corr;
    sum += x[b].d * h2f(w[b].d) * float(sumi);
  }
  return sum;
}

[[MS_TARGET_AVX512]] float dot_q2_k_q8_k_avx512(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ2_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    const __m512i packed = _mm512_cvtepu8_epi32(loadu128(w[b].scales));
    const __m512i sc32 = _mm512_and_si512(packed, _mm512_set1_epi32(0x0f));
    const __m512i m32 = _mm512_srli_epi32(packed, 4);
    const int summ = _mm512_reduce_add_epi32(
        _mm512_mullo_epi32(m32, _mm512_cvtepi16_epi32(loadu256(x[b].bsums))));
    const int sumi = two_bit_sum(w[b].qs, nullptr, x[b].qs, sc32);
    sum += x[b].d * (h2f(w[b].d) * float(sumi) - h2f(w[b].dmin) * float(summ));
  }
  return sum;
}

[[MS_TARGET_AVX512]] float dot_iq4_xs_q8_k_avx512(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockIQ4_XS*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  // The codebook plus 128 (flipping the sign bit), unsigned for vpdpbusd.
  const __m512i codebook = _mm512_xor_si512(
      _mm512_broadcast_i32x4(loadu128(kIQ4NLValues)), _mm512_set1_epi8(char(0x80)));
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    __m512i acc = _mm512_setzero_si512();
    int corr = 0;
    for (int c = 0; c < 4; ++c) {
      // qs bytes of sub-blocks 2c and 2c+1; their low then high nibbles are elements 64c..64c+63
      // once the 128-bit lanes [lo 2c, lo 2c+1, hi 2c, hi 2c+1] are put in the order 0, 2, 1, 3.
      const __m256i q = loadu256(w[b].qs + 32 * c);
      const __m512i nibbles =
          join(_mm256_and_si256(q, low4), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
      const __m512i idx = _mm512_shuffle_i64x2(nibbles, nibbles, _MM_SHUFFLE(3, 1, 2, 0));
      const __m512i u = _mm512_shuffle_epi8(codebook, idx);
      const int s0 = iq4xs_scale(w[b], 2 * c) - 32, s1 = iq4xs_scale(w[b], 2 * c + 1) - 32;
      const __m512i p = dot_u8s8(u, loadu512(x[b].qs + 64 * c));
      acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p, two_scales(s0, s1)));
      const int16_t* bs = x[b].bsums + 4 * c;
      corr += s0 * (bs[0] + bs[1]) + s1 * (bs[2] + bs[3]);
    }
    // Levels were taken as codebook + 128: remove 128·Σx per sub-block.
    const int sumi = _mm512_reduce_add_epi32(acc) - 128 * corr;
    sum += x[b].d * h2f(w[b].d) * float(sumi);
  }
  return sum;
}

}  // namespace modelswarm::kernels
