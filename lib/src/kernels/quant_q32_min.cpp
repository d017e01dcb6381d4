// Q4_1 and Q5_1 (scale and min per 32 elements), and the min-max fit both use.
#include <algorithm>

#include "kernels/q32_formats.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
// x ≈ L·d + m with m the block's minimum and L in [0, nmax], rounded half up as llama.cpp's
// reference quantizers do.
void fit_min_max(const float* x, int nmax, uint8_t* L, uint16_t& d16, uint16_t& m16) {
  float lo = x[0], hi = x[0];
  for (size_t j = 1; j < kQK4_0; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  const float d = (hi - lo) / float(nmax);
  const float id = d != 0.f ? 1.f / d : 0.f;
  d16 = fp32_to_fp16(d);
  m16 = fp32_to_fp16(lo);
  for (size_t j = 0; j < kQK4_0; ++j)
    L[j] = uint8_t(std::clamp(trunc_int((x[j] - lo) * id + 0.5f), 0, nmax));
}
}  // namespace

void quantize_q4_1(const float* x, BlockQ4_1* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK4_0) {
    uint8_t L[kQK4_0];
    fit_min_max(x, 15, L, y[b].d, y[b].m);
    pack_q32_levels(L, y[b].qs, nullptr);
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK4_0) {
    uint8_t L[kQK4_0];
    fit_min_max(x, 31, L, y[b].d, y[b].m);
    pack_q32_levels(L, y[b].qs, y[b].qh);
  }
}

void dequantize_q4_1(const BlockQ4_1* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK4_0) {
    const float d = fp16_to_fp32(x[b].d), m = fp16_to_fp32(x[b].m);
    for (int j = 0; j < int(kQK4_0); ++j) y[j] = float(q32_nibble(x[b].qs, j)) * d + m;
  }
}

void dequantize_q5_1(const BlockQ5_1* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK4_0) {
    const float d = fp16_to_fp32(x[b].d), m = fp16_to_fp32(x[b].m);
    const uint32_t qh = q5_high_bits(x[b].qh);
    for (int j = 0; j < int(kQK4_0); ++j) y[j] = float(q5_level(x[b].qs, qh, j)) * d + m;
  }
}

}  // namespace modelswarm::kernels
