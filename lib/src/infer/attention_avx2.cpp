// AVX2 + F16C attention for a GQA group: F16 K/V rows are widened 8 at a time, once per block of
// heads. Each (head, position) score is one FMA chain over the head's dimensions and each output
// one chain over the positions, in the scalar path's order.
#include <immintrin.h>

#include <limits>

#include "infer/attention.hpp"
#include "kernels/dot_isa.hpp"
#include "kernels/simd_avx2.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm::infer {

namespace {

using kernels::avx2::exp8;
using kernels::avx2::hsum;

[[MS_TARGET_AVX2]] inline __m256 load_h8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

[[MS_TARGET_AVX2]] inline __m256 round_f16(__m256 x) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
}

// The 8 sums of a[0..7], in lane h: the horizontal adds of 8 vectors at once.
[[MS_TARGET_AVX2]] inline __m256 hsum8(const __m256* a) {
  const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// Where a block's probabilities are: p(h, j) = s[h * h_step + j * j_step].
struct Probs {
  float* s;
  size_t h_step, j_step;
  float& at(uint32_t h, uint32_t j) const { return s[h * h_step + j * j_step]; }
};

// Scores of H heads at P consecutive positions from j: H*P independent chains (8 in all), so
// the FMA latency is hidden where one head at a time waited on each step of its chain.
template <int H, int P>
[[MS_TARGET_AVX2]] void scores(const AttendArgs& a, const float* qf, uint32_t j, const Probs& s) {
  __m256 acc[H * P];
  for (int i = 0; i < H * P; ++i) acc[i] = _mm256_setzero_ps();
  for (uint32_t d = 0; d < a.head_dim; d += 8) {
    __m256 kv[P];
    for (int p = 0; p < P; ++p) kv[p] = load_h8(a.k + (j + p) * a.stride + d);
    for (int h = 0; h < H; ++h) {
      const __m256 qv = _mm256_loadu_ps(qf + size_t(h) * a.head_dim + d);
      for (int p = 0; p < P; ++p) acc[h * P + p] = _mm256_fmadd_ps(qv, kv[p], acc[h * P + p]);
    }
  }
  if constexpr (H == 8 && P == 1) {  // 8 heads' scores side by side: s is position-major
    _mm256_storeu_ps(&s.at(0, j), _mm256_mul_ps(hsum8(acc), _mm256_set1_ps(a.scale)));
  } else {
    for (int h = 0; h < H; ++h)
      for (int p = 0; p < P; ++p) s.at(h, j + p) = hsum(acc[h * P + p]) * a.scale;
  }
}

// Softmax of 8 heads at once down their columns of a position-major block, then the F16
// rounding of the probabilities.
[[MS_TARGET_AVX2]] void softmax_columns8(float* s, uint32_t n) {
  __m256 mx = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (uint32_t j = 0; j < n; ++j) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + 8 * j));
  __m256 sum = _mm256_setzero_ps();
  for (uint32_t j = 0; j < n; ++j) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + 8 * j), mx));
    _mm256_storeu_ps(s + 8 * j, e);
    sum = _mm256_add_ps(sum, e);
  }
  const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.0f), sum);
  for (uint32_t j = 0; j < n; ++j)
    _mm256_storeu_ps(s + 8 * j, round_f16(_mm256_mul_ps(_mm256_loadu_ps(s + 8 * j), inv)));
}

[[MS_TARGET_AVX2]] void softmax_rows(float* s, uint32_t rows, uint32_t n) {
  for (uint32_t h = 0; h < rows; ++h) {
    float* row = s + size_t(h) * n;
    kernels::softmax_f32_avx2(row, n);
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(row + i, round_f16(_mm256_loadu_ps(row + i)));
    for (; i < n; ++i) row[i] = fp16_to_fp32(fp32_to_fp16(row[i]));
  }
}

// out[h] = sum_j p(h, j) * v[j], 8 dimensions at a time with the H sums in registers.
template <int H>
[[MS_TARGET_AVX2]] void values(const AttendArgs& a, const Probs& s, float* out) {
  for (uint32_t d = 0; d < a.head_dim; d += 8) {
    __m256 acc[H];
    for (int h = 0; h < H; ++h) acc[h] = _mm256_setzero_ps();
    for (uint32_t j = 0; j < a.n_kv; ++j) {
      const __m256 vv = load_h8(a.v + j * a.stride + d);
      for (int h = 0; h < H; ++h) acc[h] = _mm256_fmadd_ps(_mm256_broadcast_ss(&s.at(h, j)), vv, acc[h]);
    }
    for (int h = 0; h < H; ++h) _mm256_storeu_ps(out + size_t(h) * a.head_dim + d, acc[h]);
  }
}

template <int H>
[[MS_TARGET_AVX2]] void attend_block(const AttendArgs& a, const float* q, float* out) {
  constexpr int P = 8 / H;
  const uint32_t hd = a.head_dim;
  float* qf = a.scratch + size_t(H) * a.n_kv;  // after the H * n_kv scores
  for (uint32_t i = 0; i < H * hd; i += 8) _mm256_storeu_ps(qf + i, round_f16(_mm256_loadu_ps(q + i)));
  const Probs s = H == 8 ? Probs{a.scratch, 1, 8} : Probs{a.scratch, a.n_kv, 1};
  uint32_t j = 0;
  for (; j + P <= a.n_kv; j += P) scores<H, P>(a, qf, j, s);
  for (; j < a.n_kv; ++j) scores<H, 1>(a, qf, j, s);
  if (H == 8) softmax_columns8(a.scratch, a.n_kv);
  else softmax_rows(a.scratch, H, a.n_kv);
  values<H>(a, s, out);
}

}  // namespace

[[MS_TARGET_AVX2]] void attend_avx2(const AttendArgs& a) {
  const size_t hd = a.head_dim;  // a multiple of 8
  uint32_t h = 0;
  for (; h + 8 <= a.n_q; h += 8) attend_block<8>(a, a.q + h * hd, a.out + h * hd);
  if (h + 4 <= a.n_q) { attend_block<4>(a, a.q + h * hd, a.out + h * hd); h += 4; }
  if (h + 2 <= a.n_q) { attend_block<2>(a, a.q + h * hd, a.out + h * hd); h += 2; }
  if (h < a.n_q) attend_block<1>(a, a.q + h * hd, a.out + h * hd);
}

}  // namespace modelswarm::infer
