// Prefill matrix multiply with AVX2 on the repacked layout of gemm_packed.hpp. Without VNNI the
// int8 products come from vpmaddubsw (pairs of u8·s8 into saturating int16), so the layout's
// 64-byte steps are taken as two 32-byte halves (lanes 0-7, then 8-15), and several steps'
// int16 pair sums are added before one vpmaddwd widens them: exact while the sums fit.
#include "kernels/gemm_packed.hpp"
#include "kernels/simd_avx2.hpp"

namespace modelswarm::kernels {

using namespace avx2;

namespace {
#ifndef MS_GEMM2_ROWS
#define MS_GEMM2_ROWS 3
#define MS_GEMM2_COLS 3
#endif
constexpr int kRows = MS_GEMM2_ROWS;
constexpr int kCols = MS_GEMM2_COLS;

// Y[c][r] for R packed weight rows and C packed activation rows (as in gemm_avx512.cpp).
// Chunk: steps whose int16 pair sums are added before widening (int16_pair_sums_fit).
template <int R, int C, int Steps, int Chunk, bool Min>
[[MS_TARGET_AVX2]] void tile(const PackedFormat& f, const uint8_t* w, size_t w_row,
                             const uint8_t* a, size_t a_row, float* y, size_t y_stride,
                             int rows_valid) {
  static_assert(Steps % Chunk == 0);
  const size_t nbytes = 16 * size_t(f.lane_elements);
  const size_t wg = f.weight_group_bytes(), ag = f.act_group_bytes();
  const __m256i ones = _mm256_set1_epi16(1);
  alignas(32) float sums[R][C][8] = {};
  for (size_t g = 0; g < 2 * f.groups; ++g) {
    // Half g%2 of group g/2: its lanes' bytes, scales, mins and corrections sit 32 bytes on.
    const uint8_t* wp = w + (g / 2) * wg + 32 * (g % 2);
    const uint8_t* ap = a + (g / 2) * ag + 32 * (g % 2);
    __m256i acc[R][C];
#pragma GCC unroll 8
    for (int k = 0; k < Steps; k += Chunk) {
      __m256i part[R][C];
#pragma GCC unroll 8
      for (int s = k; s < k + Chunk; ++s) {
        __m256i wv[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) wv[r] = loadu(wp + r * w_row + 64 * s);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          const __m256i xv = loadu(ap + c * a_row + 64 * s);
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) {
            const __m256i p = _mm256_maddubs_epi16(wv[r], xv);
            part[r][c] = s == k ? p : _mm256_add_epi16(part[r][c], p);
          }
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c)
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const __m256i q = _mm256_madd_epi16(part[r][c], ones);
          acc[r][c] = k == 0 ? q : _mm256_add_epi32(acc[r][c], q);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m256 dx = _mm256_loadu_ps(reinterpret_cast<const float*>(ap + c * a_row + nbytes));
      const __m256i init = loadu(ap + c * a_row + nbytes + 64);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256 ws = _mm256_loadu_ps(reinterpret_cast<const float*>(wp + r * w_row + nbytes));
        __m256 sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc[r][c], init)),
                                     _mm256_mul_ps(ws, dx), _mm256_load_ps(sums[r][c]));
        if constexpr (Min) {
          const __m256 wm = _mm256_loadu_ps(reinterpret_cast<const float*>(wp + r * w_row + nbytes + 64));
          sum = _mm256_fnmadd_ps(
              wm, _mm256_loadu_ps(reinterpret_cast<const float*>(ap + c * a_row + nbytes + 128)), sum);
        }
        _mm256_store_ps(sums[r][c], sum);
      }
    }
  }
  for (int r = 0; r < R && r < rows_valid; ++r)
    for (int c = 0; c < C; ++c) y[c * y_stride + r] = hsum(_mm256_load_ps(sums[r][c]));
}

template <int Steps, int Chunk, bool Min>
TileFn tile_for(int cols) {
  if constexpr (kCols > 2) {
    if (cols == 2) return tile<kRows, 2, Steps, Chunk, Min>;
  }
  return cols == 1 ? tile<kRows, 1, Steps, Chunk, Min> : tile<kRows, kCols, Steps, Chunk, Min>;
}

// As many steps per chunk as the levels allow: 8 for 4-bit levels, 4 for 5-bit (2·127·31 each),
// 2 for Q6_K's 6-bit ones; at most the group's steps.
template <int Steps, bool Min>
TileFn tile_chunked(const PackedFormat& f, int cols) {
  if constexpr (Steps >= 8) {
    if (int16_pair_sums_fit(f.max_level, 8)) return tile_for<Steps, 8, Min>(cols);
  }
  // The type table gives AVX2 packers only to levels that fit two steps (Q6_K's 6 bits).
  if (int16_pair_sums_fit(f.max_level, 4)) return tile_for<Steps, 4, Min>(cols);
  return tile_for<Steps, 2, Min>(cols);
}

TileFn pick_tile(const PackedFormat& f, int cols) {
  if (f.lane_elements == 16)
    return f.has_min ? tile_chunked<4, true>(f, cols) : tile_chunked<4, false>(f, cols);
  return f.has_min ? tile_chunked<8, true>(f, cols) : tile_chunked<8, false>(f, cols);
}
}  // namespace

void gemm_avx2(const PackedFormat& f, PackWeightsFn pack, const MatrixView& w, const float* x,
               size_t m, size_t x_stride, float* y, size_t y_stride, ThreadPool* pool) {
  gemm_packed(f, GemmKernels{kRows, kCols, pack, pick_tile}, w, x, m, x_stride, y, y_stride, pool);
}

}  // namespace modelswarm::kernels
