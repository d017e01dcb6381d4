// AVX2 softmax, SiLU and GELU on exp8 (simd_avx2.hpp). With libm's expf one element at a time these
// were a sixth of a decode step at 2k context, and SiLU ran on one thread between two GEMMs.
#include <cmath>
#include <limits>

#include "kernels/dot_isa.hpp"
#include "kernels/simd_avx2.hpp"

namespace modelswarm::kernels {

namespace {

// Lanes 0 .. n-1 on (n < 8): the tail of a row, loaded and stored without reading past it.
[[MS_TARGET_AVX2]] inline __m256i tail_mask(size_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

[[MS_TARGET_AVX2]] inline __m256 silu_mul8(__m256 g, __m256 u) {
  const __m256 e = avx2::exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

// 0.5·g·(1 + tanh(u)) = g / (1 + e^(-2u)): the tanh form of GELU on the same exponential.
[[MS_TARGET_AVX2]] inline __m256 gelu_mul8(__m256 g, __m256 up) {
  const __m256 g3 = _mm256_mul_ps(_mm256_mul_ps(g, g), g);
  const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                                 _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), g3, g));
  const __m256 e = avx2::exp8(_mm256_mul_ps(_mm256_set1_ps(-2.0f), u));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), up);
}

template <__m256 (*F)(__m256, __m256)>
[[MS_TARGET_AVX2]] void gated(const float* gate, const float* up, float* out, size_t n) {
  const size_t body = n & ~size_t(7);
  for (size_t i = 0; i < body; i += 8) _mm256_storeu_ps(out + i, F(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (body < n) {
    const __m256i tm = tail_mask(n - body);
    _mm256_maskstore_ps(out + body, tm, F(_mm256_maskload_ps(gate + body, tm), _mm256_maskload_ps(up + body, tm)));
  }
}

}  // namespace

[[MS_TARGET_AVX2]] void softmax_f32_avx2(float* x, size_t n) {
  if (n == 0) return;
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  const size_t body = n & ~size_t(7);
  const __m256i tm = tail_mask(n - body);
  __m256 vmax = ninf;
  for (size_t i = 0; i < body; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  if (body < n) vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + body, tm),
                                                            _mm256_castsi256_ps(tm)));
  const __m256 mx = _mm256_set1_ps(avx2::hmax(vmax));
  __m256 sum = _mm256_setzero_ps();
  for (size_t i = 0; i < body; i += 8) {
    const __m256 e = avx2::exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mx));
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (body < n) {
    const __m256 e = _mm256_and_ps(avx2::exp8(_mm256_sub_ps(_mm256_maskload_ps(x + body, tm), mx)),
                                   _mm256_castsi256_ps(tm));
    _mm256_maskstore_ps(x + body, tm, e);
    sum = _mm256_add_ps(sum, e);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / avx2::hsum(sum));
  for (size_t i = 0; i < body; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  if (body < n) _mm256_maskstore_ps(x + body, tm, _mm256_mul_ps(_mm256_maskload_ps(x + body, tm), inv));
}

[[MS_TARGET_AVX2]] void silu_mul_f32_avx2(const float* gate, const float* up, float* out, size_t n) {
  gated<silu_mul8>(gate, up, out, n);
}

[[MS_TARGET_AVX2]] void gelu_mul_f32_avx2(const float* gate, const float* up, float* out, size_t n) {
  gated<gelu_mul8>(gate, up, out, n);
}

}  // namespace modelswarm::kernels
