// AVX2 + F16C attention: F16 K/V rows are widened 8 at a time.
#include <immintrin.h>

#include "infer/attention.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm::infer {

namespace {

[[gnu::target("avx2,fma,f16c")]] inline __m256 load_h8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

[[gnu::target("avx2,fma,f16c")]] inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

[[gnu::target("avx2,fma,f16c")]] void attend_head_avx2(const AttendArgs& a) {
  const uint32_t hd = a.head_dim;  // a multiple of 8
  float* qf = a.scratch + a.n_kv;
  for (uint32_t d = 0; d < hd; d += 8) {
    __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(a.q + d), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_ps(qf + d, _mm256_cvtph_ps(h));
  }
  float* s = a.scratch;
  for (uint32_t j = 0; j < a.n_kv; ++j) {
    const uint16_t* kj = a.k + j * a.stride;
    __m256 acc = _mm256_setzero_ps();
    for (uint32_t d = 0; d < hd; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(qf + d), load_h8(kj + d), acc);
    s[j] = hsum(acc) * a.scale;
  }
  softmax_f32(s, a.n_kv);
  for (uint32_t d = 0; d < hd; d += 8) _mm256_storeu_ps(a.out + d, _mm256_setzero_ps());
  for (uint32_t j = 0; j < a.n_kv; ++j) {
    const float p = fp16_to_fp32(fp32_to_fp16(s[j]));
    const __m256 pv = _mm256_set1_ps(p);
    const uint16_t* vj = a.v + j * a.stride;
    for (uint32_t d = 0; d < hd; d += 8)
      _mm256_storeu_ps(a.out + d, _mm256_fmadd_ps(pv, load_h8(vj + d), _mm256_loadu_ps(a.out + d)));
  }
}

}  // namespace modelswarm::infer
