// Levels of Q5_K, Q3_K and Q2_K blocks expanded to bytes in element order, 32 at a time, for
// the AVX2 and AVX-512 kernels (dot_kquant2_*.cpp); AVX2 code, which AVX-512 callers inline.
#pragma once

#include <immintrin.h>

#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels::kquant2 {

// Bit `bit` of every byte of v, moved to bit `to`.
[[MS_TARGET_AVX2]] inline __m256i byte_bit(__m256i v, int bit, int to) {
  const __m256i b = _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(bit)),
                                     _mm256_set1_epi8(1));
  return _mm256_sll_epi16(b, _mm_cvtsi32_si128(to));
}

// Q5_K levels 0..31 of elements 64c..64c+31 (lo) and 64c+32..64c+63 (hi), from the 32 qs bytes
// of chunk c and the block's qh.
[[MS_TARGET_AVX2]] inline void q5k_levels(__m256i q, __m256i qh, int c, __m256i& lo, __m256i& hi) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  lo = _mm256_or_si256(_mm256_and_si256(q, low4), byte_bit(qh, 2 * c, 4));
  hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), byte_bit(qh, 2 * c + 1, 4));
}

// Q2_K / Q3_K levels of elements 128n + 32j .. +31 from the 32 qs bytes of half n: the 2-bit
// level, plus (Q3_K, hmask not null) 4 · its high bit; 0..3 or 0..7.
[[MS_TARGET_AVX2]] inline __m256i two_bit_levels(__m256i q, const uint8_t* hmask, int n, int j) {
  const __m256i u =
      _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(2 * j)), _mm256_set1_epi8(3));
  if (!hmask) return u;
  const __m256i hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hmask));
  return _mm256_or_si256(u, byte_bit(hm, 4 * n + j, 2));
}

}  // namespace modelswarm::kernels::kquant2
