// AVX2 + FMA + F16C dot products of float weights (F32, F16, BF16) with float activations.
#include <immintrin.h>

#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels {

namespace {
[[MS_TARGET_AVX2]] inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

[[MS_TARGET_AVX2]] inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
[[MS_TARGET_AVX2]] inline __m256 load8(const uint16_t* p, bool bf16) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if (!bf16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

[[MS_TARGET_AVX2]] inline auto load8(const float* w, size_t i, bool) { return load8(w + i); }
[[MS_TARGET_AVX2]] inline auto load8(const uint16_t* w, size_t i, bool bf16) { return load8(w + i, bf16); }

// Four accumulators hide the FMA latency; the tail goes element by element.
template <class W>
[[MS_TARGET_AVX2]] inline float dot_any(const W* w, const float* x, size_t n, bool bf16) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(load8(w, i, bf16), load8(x + i), a0);
    a1 = _mm256_fmadd_ps(load8(w, i + 8, bf16), load8(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(load8(w, i + 16, bf16), load8(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(load8(w, i + 24, bf16), load8(x + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(load8(w, i, bf16), load8(x + i), a0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; ++i) {
    if constexpr (sizeof(W) == 4) {
      sum += w[i] * x[i];
    } else {
      sum += (bf16 ? bf16_to_fp32(w[i]) : fp16_to_fp32(w[i])) * x[i];
    }
  }
  return sum;
}
}  // namespace

[[MS_TARGET_AVX2]] float dot_f32_avx2(const float* a, const float* b, size_t n) {
  return dot_any(a, b, n, false);
}

[[MS_TARGET_AVX2]] void axpy_f32_avx2(float a, const float* x, float* y, size_t n) {
  const __m256 va = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

[[MS_TARGET_AVX2]] float dot_f32_f32_avx2(size_t k, const void* w, const void* x) {
  return dot_any(static_cast<const float*>(w), static_cast<const float*>(x), k, false);
}

[[MS_TARGET_AVX2]] float dot_f16_f32_avx2(size_t k, const void* w, const void* x) {
  return dot_any(static_cast<const uint16_t*>(w), static_cast<const float*>(x), k, false);
}

[[MS_TARGET_AVX2]] float dot_bf16_f32_avx2(size_t k, const void* w, const void* x) {
  return dot_any(static_cast<const uint16_t*>(w), static_cast<const float*>(x), k, true);
}

}  // namespace modelswarm::kernels
