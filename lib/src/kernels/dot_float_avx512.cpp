// AVX-512 dot products of float weights (F32, F16, BF16) with float activations.
// GCC 12 warns about its own intrinsics (_mm512_reduce_add_ps, cvtph) leaving lanes undefined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels {

namespace {
[[MS_TARGET_AVX512]] inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
[[MS_TARGET_AVX512]] inline __m512 load16(const uint16_t* p, bool bf16) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  if (!bf16) return _mm512_cvtph_ps(h);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
[[MS_TARGET_AVX512]] inline __m512 load_tail(const float* p, __mmask16 m) {
  return _mm512_maskz_loadu_ps(m, p);
}
[[MS_TARGET_AVX512]] inline __m512 load_tail(const uint16_t* p, __mmask16 m, bool bf16) {
  const __m256i h = _mm256_maskz_loadu_epi16(m, p);
  if (!bf16) return _mm512_cvtph_ps(h);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

[[MS_TARGET_AVX512]] inline auto load16(const float* w, size_t i, bool) { return load16(w + i); }
[[MS_TARGET_AVX512]] inline auto load16(const uint16_t* w, size_t i, bool bf16) { return load16(w + i, bf16); }

// Four accumulators hide the FMA latency; the tail is one masked step.
template <class W>
[[MS_TARGET_AVX512]] inline float dot_any(const W* w, const float* x, size_t n, bool bf16) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = _mm512_fmadd_ps(load16(w, i, bf16), load16(x + i), a0);
    a1 = _mm512_fmadd_ps(load16(w, i + 16, bf16), load16(x + i + 16), a1);
    a2 = _mm512_fmadd_ps(load16(w, i + 32, bf16), load16(x + i + 32), a2);
    a3 = _mm512_fmadd_ps(load16(w, i + 48, bf16), load16(x + i + 48), a3);
  }
  for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(load16(w, i, bf16), load16(x + i), a0);
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1);
    __m512 wv;
    if constexpr (sizeof(W) == 4) {
      wv = load_tail(w + i, m);
    } else {
      wv = load_tail(w + i, m, bf16);
    }
    a1 = _mm512_fmadd_ps(wv, load_tail(x + i, m), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
}  // namespace

[[MS_TARGET_AVX512]] float dot_f32_avx512(const float* a, const float* b, size_t n) {
  return dot_any(a, b, n, false);
}

[[MS_TARGET_AVX512]] void axpy_f32_avx512(float a, const float* x, float* y, size_t n) {
  const __m512 va = _mm512_set1_ps(a);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m,
                          _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i),
                                          _mm512_maskz_loadu_ps(m, y + i)));
  }
}

[[MS_TARGET_AVX512]] float dot_f32_f32_avx512(size_t k, const void* w, const void* x) {
  return dot_any(static_cast<const float*>(w), static_cast<const float*>(x), k, false);
}

[[MS_TARGET_AVX512]] float dot_f16_f32_avx512(size_t k, const void* w, const void* x) {
  return dot_any(static_cast<const uint16_t*>(w), static_cast<const float*>(x), k, false);
}

[[MS_TARGET_AVX512]] float dot_bf16_f32_avx512(size_t k, const void* w, const void* x) {
  return dot_any(static_cast<const uint16_t*>(w), static_cast<const float*>(x), k, true);
}

}  // namespace modelswarm::kernels
