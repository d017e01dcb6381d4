// Prefill matrix multiply with AVX-512 VNNI on the repacked layout of gemm_packed.hpp.
// Each thread takes panels of kRows weight rows, repacks them once (gathers), then runs every
// token through them kCols at a time: a panel's weights are loaded from L1 for all tokens.
#include <algorithm>
#include <cstring>

#include "kernels/gemm_packed.hpp"
#include "kernels/quant_internal.hpp"
#include "kernels/simd_avx512.hpp"

namespace modelswarm::kernels {

using namespace avx512;

namespace {
#ifndef MS_GEMM_ROWS
#define MS_GEMM_ROWS 4
#define MS_GEMM_COLS 3
#endif
constexpr int kRows = MS_GEMM_ROWS;
constexpr int kCols = MS_GEMM_COLS;

[[MS_TARGET_AVX512]] inline __m512i lane_index() {
  return _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
}

[[MS_TARGET_AVX512]] inline __m512i gather(__mmask16 m, __m512i offsets, const uint8_t* base) {
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offsets, base, 1);
}

}  // namespace

// ---- weight rows into packed groups --------------------------------------------------------

[[MS_TARGET_AVX512]] void pack_weights_q4_0_avx512(const PackedFormat& f, const uint8_t* row,
                                                   size_t cols, uint8_t* dst) {
  const size_t nb = cols / kQK4_0;
  const __m512i at = _mm512_mullo_epi32(lane_index(), _mm512_set1_epi32(sizeof(BlockQ4_0)));
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  for (size_t g = 0; g < f.groups; ++g) {
    const __mmask16 m = __mmask16((1u << std::min<size_t>(16, nb - 16 * g)) - 1);
    const uint8_t* base = row + 16 * g * sizeof(BlockQ4_0);
    uint8_t* out = dst + g * f.weight_group_bytes();
    for (int d = 0; d < 4; ++d) {
      // Dword d of qs: low nibbles are elements 4d..4d+3, high nibbles 16+4d..16+4d+3.
      const __m512i v = gather(m, _mm512_add_epi32(at, _mm512_set1_epi32(2 + 4 * d)), base);
      _mm512_storeu_si512(out + 64 * d, _mm512_and_si512(v, low4));
      _mm512_storeu_si512(out + 64 * (d + 4), _mm512_and_si512(_mm512_srli_epi32(v, 4), low4));
    }
    const __m512i h = gather(m, at, base);
    _mm512_storeu_ps(out + 512, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
  }
}

[[MS_TARGET_AVX512]] void pack_weights_q8_0_avx512(const PackedFormat& f, const uint8_t* row,
                                                   size_t cols, uint8_t* dst) {
  const size_t nb = cols / kQK8_0;
  const __m512i at = _mm512_mullo_epi32(lane_index(), _mm512_set1_epi32(sizeof(BlockQ8_0)));
  const __m512i flip = _mm512_set1_epi8(int8_t(0x80));
  for (size_t g = 0; g < f.groups; ++g) {
    const __mmask16 m = __mmask16((1u << std::min<size_t>(16, nb - 16 * g)) - 1);
    const uint8_t* base = row + 16 * g * sizeof(BlockQ8_0);
    uint8_t* out = dst + g * f.weight_group_bytes();
    for (int s = 0; s < 8; ++s) {
      const __m512i v = gather(m, _mm512_add_epi32(at, _mm512_set1_epi32(2 + 4 * s)), base);
      _mm512_storeu_si512(out + 64 * s, _mm512_maskz_mov_epi32(m, _mm512_xor_si512(v, flip)));
    }
    const __m512i h = gather(m, at, base);
    _mm512_storeu_ps(out + 512, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
  }
}

[[MS_TARGET_AVX512]] void pack_weights_q4_k_avx512(const PackedFormat& f, const uint8_t* row,
                                                   size_t cols, uint8_t* dst) {
  const size_t nsb = cols / kQK_K;
  const __m512i lane = lane_index();
  const __m512i sub = _mm512_and_si512(lane, _mm512_set1_epi32(7));
  const __m512i sb_off = _mm512_mullo_epi32(_mm512_srli_epi32(lane, 3), _mm512_set1_epi32(144));
  // Sub-block s is nibble s%2 of bytes 32·(s/2).. of qs (which starts at byte 16).
  const __m512i at = _mm512_add_epi32(
      sb_off, _mm512_add_epi32(_mm512_set1_epi32(16),
                               _mm512_slli_epi32(_mm512_srli_epi32(sub, 1), 5)));
  const __m512i shift = _mm512_slli_epi32(_mm512_and_si512(sub, _mm512_set1_epi32(1)), 2);
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  for (size_t g = 0; g < f.groups; ++g) {
    const size_t present = std::min<size_t>(2, nsb - 2 * g);
    const __mmask16 m = present == 2 ? 0xffff : 0x00ff;
    const uint8_t* base = row + 2 * g * sizeof(BlockQ4_K);
    uint8_t* out = dst + g * f.weight_group_bytes();
    for (int s = 0; s < 8; ++s) {
      const __m512i v = gather(m, _mm512_add_epi32(at, _mm512_set1_epi32(4 * s)), base);
      _mm512_storeu_si512(out + 64 * s, _mm512_and_si512(_mm512_srlv_epi32(v, shift), low4));
    }
    float* scale = reinterpret_cast<float*>(out + 512);
    float* mins = scale + 16;
    for (int l = 0; l < 16; ++l) {
      if (size_t(l / 8) >= present) {
        scale[l] = mins[l] = 0.f;
        continue;
      }
      BlockQ4_K b;
      std::memcpy(&b, base + (l / 8) * sizeof(BlockQ4_K), 16);  // d, dmin, scales
      uint8_t sc, mn;
      q4k_scale_min(b.scales, l % 8, sc, mn);
      scale[l] = fp16_to_fp32(b.d) * float(sc);
      mins[l] = fp16_to_fp32(b.dmin) * float(mn);
    }
  }
}

[[MS_TARGET_AVX512]] void pack_weights_q6_k_avx512(const PackedFormat& f, const uint8_t* row,
                                                   size_t, uint8_t* dst) {
  const __m512i lane = lane_index();
  const __m512i half = _mm512_srli_epi32(lane, 3), quad = _mm512_srli_epi32(
      _mm512_and_si512(lane, _mm512_set1_epi32(7)), 1);
  const __m512i odd16 = _mm512_slli_epi32(_mm512_and_si512(lane, _mm512_set1_epi32(1)), 4);
  // Sub-block j: elements p = 16·(j%8).. of half j/8; quadrant p/32 picks the ql byte run
  // (32·(quadrant%2)), its nibble (quadrant/2) and the qh bit pair (2·quadrant).
  const __m512i ql_at = _mm512_add_epi32(
      _mm512_add_epi32(_mm512_slli_epi32(half, 6),
                       _mm512_slli_epi32(_mm512_and_si512(quad, _mm512_set1_epi32(1)), 5)),
      odd16);
  const __m512i ql_shift = _mm512_slli_epi32(_mm512_srli_epi32(quad, 1), 2);
  const __m512i qh_at = _mm512_add_epi32(
      _mm512_add_epi32(_mm512_set1_epi32(128), _mm512_slli_epi32(half, 5)), odd16);
  const __m512i qh_shift = _mm512_slli_epi32(quad, 1);
  const __m512i low4 = _mm512_set1_epi8(0x0f), two = _mm512_set1_epi8(3);
  for (size_t g = 0; g < f.groups; ++g) {
    const uint8_t* base = row + g * sizeof(BlockQ6_K);
    uint8_t* out = dst + g * f.weight_group_bytes();
    for (int s = 0; s < 4; ++s) {
      const __m512i lo = _mm512_srlv_epi32(
          gather(0xffff, _mm512_add_epi32(ql_at, _mm512_set1_epi32(4 * s)), base), ql_shift);
      const __m512i hi = _mm512_srlv_epi32(
          gather(0xffff, _mm512_add_epi32(qh_at, _mm512_set1_epi32(4 * s)), base), qh_shift);
      _mm512_storeu_si512(out + 64 * s,
                          _mm512_or_si512(_mm512_and_si512(lo, low4),
                                          _mm512_slli_epi32(_mm512_and_si512(hi, two), 4)));
    }
    BlockQ6_K b;
    std::memcpy(&b, base, sizeof b);
    const float d = fp16_to_fp32(b.d);
    float* scale = reinterpret_cast<float*>(out + 256);
    for (int l = 0; l < 16; ++l) scale[l] = d * float(b.scales[l]);
  }
}

namespace {

// ---- the tile kernel ------------------------------------------------------------------------

// Y[c][r] for R packed weight rows and C packed activation rows. Each activation line is used
// by R rows while the weights stay in registers: activations stream from L2, so R sets how
// many vpdpbusd each line feeds. The float sums live in memory (L1), touched once per group.
template <int R, int C, int Steps, bool Min>
[[MS_TARGET_AVX512]] void tile(const PackedFormat& f, const uint8_t* w, size_t w_row,
                               const uint8_t* a, size_t a_row, float* y, size_t y_stride,
                               int rows_valid) {
  const size_t nbytes = 16 * size_t(f.lane_elements);
  const size_t wg = f.weight_group_bytes(), ag = f.act_group_bytes();
  alignas(64) float sums[R][C][16] = {};
  for (size_t g = 0; g < f.groups; ++g) {
    const uint8_t* wp = w + g * wg;
    const uint8_t* ap = a + g * ag;
    __m512i acc[R][C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m512i init = _mm512_loadu_si512(ap + c * a_row + nbytes + 64);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][c] = init;
    }
#pragma GCC unroll 8
    for (int s = 0; s < Steps; ++s) {
      __m512i wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_si512(wp + r * w_row + 64 * s);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512i xv = _mm512_loadu_si512(ap + c * a_row + 64 * s);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], wv[r], xv);
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m512 dx = _mm512_loadu_ps(ap + c * a_row + nbytes);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 ws = _mm512_loadu_ps(wp + r * w_row + nbytes);
        __m512 sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][c]), _mm512_mul_ps(ws, dx),
                                     _mm512_load_ps(sums[r][c]));
        if constexpr (Min) {
          const __m512 wm = _mm512_loadu_ps(wp + r * w_row + nbytes + 64);
          sum = _mm512_fnmadd_ps(wm, _mm512_loadu_ps(ap + c * a_row + nbytes + 128), sum);
        }
        _mm512_store_ps(sums[r][c], sum);
      }
    }
  }
  for (int r = 0; r < R && r < rows_valid; ++r)
    for (int c = 0; c < C; ++c) y[c * y_stride + r] = _mm512_reduce_add_ps(_mm512_load_ps(sums[r][c]));
}

template <int Steps, bool Min>
TileFn tile_for(int cols) {
  if constexpr (kCols > 2) {
    if (cols == 2) return tile<kRows, 2, Steps, Min>;
  }
  return cols == 1 ? tile<kRows, 1, Steps, Min> : tile<kRows, kCols, Steps, Min>;
}

TileFn pick_tile(const PackedFormat& f, int cols) {
  if (f.lane_elements == 16) return f.has_min ? tile_for<4, true>(cols) : tile_for<4, false>(cols);
  return f.has_min ? tile_for<8, true>(cols) : tile_for<8, false>(cols);
}

}  // namespace

void gemm_avx512(const PackedFormat& f, PackWeightsFn pack, const MatrixView& w, const float* x,
                 size_t m, size_t x_stride, float* y, size_t y_stride, ThreadPool* pool) {
  gemm_packed(f, GemmKernels{kRows, kCols, pack, pick_tile}, w, x, m, x_stride, y, y_stride, pool);
}

}  // namespace modelswarm::kernels
