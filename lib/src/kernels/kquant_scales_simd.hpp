// The 6-bit sub-block scales and mins of a Q4_K / Q5_K super-block as vectors, for the SIMD
// decode kernels: unpacking them one at a time (q4k_scale_min) and reducing each super-block's
// sum to a scalar cost those kernels as much as their dot products.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels {

// The eight scales (bytes 0-7 of the result) and mins (bytes 8-15) of the 12 packed scale bytes
// read as three words: q4k_scale_min for all eight sub-blocks at once.
[[MS_TARGET_AVX2]] inline __m128i q4k_scales_mins(const uint8_t* s) {
  uint32_t w0, w1, w2;
  std::memcpy(&w0, s, 4);
  std::memcpy(&w1, s + 4, 4);
  std::memcpy(&w2, s + 8, 4);
  const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
  return _mm_setr_epi32(int(w0 & low6), int((w2 & low4) | (((w0 >> 6) & low2) << 4)),
                        int(w1 & low6), int(((w2 >> 4) & low4) | (((w1 >> 6) & low2) << 4)));
}

// A super-block's scales as int16 in both 128-bit halves (words 0-7 of each), for k_scale.
[[MS_TARGET_AVX2]] inline __m256i k_scales16(__m128i scales_mins) {
  return _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scales_mins));
}

// Scale `s` (0-7) in every int16 lane, from k_scales16: one byte shuffle.
[[MS_TARGET_AVX2]] inline __m256i k_scale(__m256i scales16, int s) {
  return _mm256_shuffle_epi8(scales16, _mm256_set1_epi16(short((2 * s + 1) << 8 | 2 * s)));
}

// Per sub-block s, as int32 lane s: min[s] · Σx over its 32 elements, from the Q8_K block's 16
// sums of 16 (exact: |min| ≤ 63, |Σx| ≤ 32·127).
[[MS_TARGET_AVX2]] inline __m256i k_min_terms(__m128i scales_mins, const int16_t* bsums) {
  const __m128i pairs = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
  const __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scales_mins, pairs));
  return _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums)), mins);
}

// Adds chunk c (elements 64c..64c+63, sub-blocks 2c and 2c + 1) of a Q4_K / Q5_K super-block to
// `sum`: its levels `lo` and `hi` (unsigned, at most 31, so vpmaddubsw pairs cannot saturate)
// against the Q8_K values, each pair sum scaled by its sub-block's 6-bit scale.
[[MS_TARGET_AVX2]] inline __m256i k_chunk_sum(__m256i sum, __m256i lo, __m256i hi, const int8_t* xq,
                                              __m256i scales16, int c) {
  const __m256i p0 =
      _mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * c)));
  const __m256i p1 = _mm256_maddubs_epi16(
      hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64 * c + 32)));
  sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p0, k_scale(scales16, 2 * c)));
  return _mm256_add_epi32(sum, _mm256_madd_epi16(p1, k_scale(scales16, 2 * c + 1)));
}

// A super-block's scaled sums (`sum`) and min terms, in float lanes: no horizontal sum until the
// end of the row, where the result is Σ(acc - mins).
[[MS_TARGET_AVX2]] inline void k_accumulate(__m256i sum, __m128i scales_mins, const int16_t* bsums,
                                            float d, float dmin, __m256& acc, __m256& mins) {
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(d), acc);
  mins = _mm256_fmadd_ps(_mm256_cvtepi32_ps(k_min_terms(scales_mins, bsums)), _mm256_set1_ps(dmin),
                         mins);
}

}  // namespace modelswarm::kernels
