// AVX2 packing of weight rows into the layout of gemm_packed.hpp: the same bytes as the portable
// packers (gemm_pack_weights.cpp). A step of the layout holds the same 4 bytes of 16 blocks, so
// packing is a transpose of 32-bit words; done a byte at a time it cost as much as the GEMM
// itself at 128 tokens (perf, TinyLlama-shaped Q4_K), since each panel is packed once per call.
#include <cstring>

#include "kernels/gemm_packed.hpp"
#include "kernels/kquant_scales_simd.hpp"
#include "kernels/quant_internal.hpp"
#include "kernels/simd_avx2.hpp"

namespace modelswarm::kernels {

using namespace avx2;

namespace {
[[MS_TARGET_AVX2]] inline __m128i loadu128(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}
[[MS_TARGET_AVX2]] inline void storeu(uint8_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

// Words s of four vectors' 128-bit halves side by side: t[s] = [a[s], b[s], c[s], d[s]] in each
// half, for s = 0..3 (a 4x4 transpose of 32-bit words, twice).
struct Transposed {
  __m256i t[4];
};
[[MS_TARGET_AVX2]] inline Transposed transpose4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab_lo = _mm256_unpacklo_epi32(a, b), ab_hi = _mm256_unpackhi_epi32(a, b);
  const __m256i cd_lo = _mm256_unpacklo_epi32(c, d), cd_hi = _mm256_unpackhi_epi32(c, d);
  return {{_mm256_unpacklo_epi64(ab_lo, cd_lo), _mm256_unpackhi_epi64(ab_lo, cd_lo),
           _mm256_unpacklo_epi64(ab_hi, cd_hi), _mm256_unpackhi_epi64(ab_hi, cd_hi)}};
}

// Lanes 0-7 of a Q4_0 group (out) or 8-15 (out + 32): element e < 16 of block j is the low
// nibble of qs[e], e + 16 its high nibble, so step s < 4 is word s of qs, masked, and step s + 4
// the same word shifted.
[[MS_TARGET_AVX2]] void q4_0_lanes8(const BlockQ4_0* b, uint8_t* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  __m256i q[4];
  for (int j = 0; j < 4; ++j) q[j] = _mm256_set_m128i(loadu128(b[j + 4].qs), loadu128(b[j].qs));
  const Transposed t = transpose4(q[0], q[1], q[2], q[3]);
  for (int s = 0; s < 4; ++s) {
    storeu(out + 64 * s, _mm256_and_si256(t.t[s], low4));
    storeu(out + 64 * (s + 4), _mm256_and_si256(_mm256_srli_epi16(t.t[s], 4), low4));
  }
}

// Lanes 8h..8h+7 of a Q4_K group: sub-block 2c is the low nibbles of the 32 bytes qs[32c..],
// 2c + 1 their high nibbles, so step s takes word s of each 32-byte chunk.
[[MS_TARGET_AVX2]] void q4_k_lanes8(const BlockQ4_K& b, uint8_t* out, float* scale, float* min) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  // Each 128-bit half of t[k]: word k (low half) or k + 4 (high) of the four chunks.
  const Transposed t =
      transpose4(loadu(b.qs), loadu(b.qs + 32), loadu(b.qs + 64), loadu(b.qs + 96));
  for (int k = 0; k < 4; ++k) {
    const __m256i lo = _mm256_and_si256(t.t[k], low4);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(t.t[k], 4), low4);
    const __m256i chunks01 = _mm256_unpacklo_epi32(lo, hi),
                  chunks23 = _mm256_unpackhi_epi32(lo, hi);
    storeu(out + 64 * k, _mm256_permute2x128_si256(chunks01, chunks23, 0x20));
    storeu(out + 64 * (k + 4), _mm256_permute2x128_si256(chunks01, chunks23, 0x31));
  }
  const __m128i sm = q4k_scales_mins(b.scales);
  _mm256_storeu_ps(
      scale, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sm)), _mm256_set1_ps(h2f(b.d))));
  _mm256_storeu_ps(min,
                   _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8))),
                                 _mm256_set1_ps(h2f(b.dmin))));
}

// Q6_K levels 0..63 of quadrant q: low nibbles `lo` (shifted into place), the qh bit pair 2q.
[[MS_TARGET_AVX2]] inline __m256i q6_k_levels(__m256i lo, __m256i qh, int q) {
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * q), _mm256_set1_epi8(3));
  return _mm256_or_si256(_mm256_and_si256(lo, _mm256_set1_epi8(0x0f)), _mm256_slli_epi16(hi, 4));
}

// Lanes 8h..8h+7 of a Q6_K group (one super-block): lane 8h + 2q + a is quadrant q's 16
// elements at 16a of half h, so level vector q (as the dot kernel builds it) holds lane 2q in its
// low half and 2q + 1 in its high half.
[[MS_TARGET_AVX2]] void q6_k_lanes8(const BlockQ6_K& b, int h, uint8_t* out) {
  const __m256i ql0 = loadu(b.ql + 64 * h), ql1 = loadu(b.ql + 64 * h + 32);
  const __m256i qh = loadu(b.qh + 32 * h);
  const Transposed t = transpose4(q6_k_levels(ql0, qh, 0), q6_k_levels(ql1, qh, 1),
                                  q6_k_levels(_mm256_srli_epi16(ql0, 4), qh, 2),
                                  q6_k_levels(_mm256_srli_epi16(ql1, 4), qh, 3));
  // t[s] holds lanes [0, 2, 4, 6 | 1, 3, 5, 7] of step s.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int s = 0; s < 4; ++s) storeu(out + 64 * s, _mm256_permutevar8x32_epi32(t.t[s], order));
}
}  // namespace

[[MS_TARGET_AVX2]] void pack_weights_q4_0_avx2(const PackedFormat& f, const uint8_t* row,
                                               size_t cols, uint8_t* dst) {
  const size_t nb = cols / kQK4_0;
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(row);
  for (size_t g = 0; g < f.groups; ++g) {
    const BlockQ4_0* b = blocks + 16 * g;
    // A last, partial group: its missing blocks as zeros (levels 0, scale 0).
    BlockQ4_0 tail[16];
    if (nb - 16 * g < 16) {
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, b, (nb - 16 * g) * sizeof(BlockQ4_0));
      b = tail;
    }
    uint8_t* out = dst + g * f.weight_group_bytes();
    q4_0_lanes8(b, out);
    q4_0_lanes8(b + 8, out + 32);
    float* scale = reinterpret_cast<float*>(out + 512);
    for (int j = 0; j < 16; ++j) scale[j] = h2f(b[j].d);
  }
}

[[MS_TARGET_AVX2]] void pack_weights_q4_k_avx2(const PackedFormat& f, const uint8_t* row,
                                               size_t cols, uint8_t* dst) {
  const size_t nsb = cols / kQK_K;
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(row);
  for (size_t g = 0; g < f.groups; ++g) {
    uint8_t* out = dst + g * f.weight_group_bytes();
    float* scale = reinterpret_cast<float*>(out + 512);
    for (size_t half = 0; half < 2; ++half) {
      if (2 * g + half < nsb) {
        q4_k_lanes8(blocks[2 * g + half], out + 32 * half, scale + 8 * half, scale + 16 + 8 * half);
        continue;
      }
      // A last group with one super-block: empty lanes contribute nothing.
      for (int s = 0; s < 8; ++s) storeu(out + 64 * s + 32, _mm256_setzero_si256());
      std::memset(scale + 8, 0, 8 * sizeof(float));
      std::memset(scale + 24, 0, 8 * sizeof(float));
    }
  }
}

[[MS_TARGET_AVX2]] void pack_weights_q6_k_avx2(const PackedFormat& f, const uint8_t* row, size_t,
                                               uint8_t* dst) {
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(row);
  for (size_t g = 0; g < f.groups; ++g) {
    const BlockQ6_K& b = blocks[g];
    uint8_t* out = dst + g * f.weight_group_bytes();
    q6_k_lanes8(b, 0, out);
    q6_k_lanes8(b, 1, out + 32);
    const __m128i sc = loadu128(b.scales);
    const __m256 d = _mm256_set1_ps(h2f(b.d));
    auto* scale = reinterpret_cast<float*>(out + 256);
    _mm256_storeu_ps(scale, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc)), d));
    _mm256_storeu_ps(
        scale + 8,
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8))), d));
  }
}

}  // namespace modelswarm::kernels
