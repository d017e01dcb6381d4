// Small AVX-512 helpers shared by the AVX-512 kernel files.
#pragma once

// GCC 12 warns about its own intrinsics (reductions, conversions) leaving lanes undefined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels::avx512 {

// fp16 to float with F16C: exact, so equal to the scalar fp16_to_fp32, and branch-free.
[[MS_TARGET_AVX512]] inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

[[MS_TARGET_AVX512]] inline __m256i loadu256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
[[MS_TARGET_AVX512]] inline __m128i loadu128(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}
[[MS_TARGET_AVX512]] inline __m512i loadu512(const void* p) { return _mm512_loadu_si512(p); }

// Two 256-bit halves into one register: a in lanes 0-7, b in lanes 8-15.
[[MS_TARGET_AVX512]] inline __m512i join(__m256i a, __m256i b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}
[[MS_TARGET_AVX512]] inline __m512 join_ps(float a, float b) {
  return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}

// Σ u[i]·s[i] of unsigned by signed bytes, 16 int32 partial sums (vpdpbusd).
[[MS_TARGET_AVX512]] inline __m512i dot_u8s8(__m512i u, __m512i s) {
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, s);
}

}  // namespace modelswarm::kernels::avx512
