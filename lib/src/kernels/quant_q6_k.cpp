#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q6_k(const float* x, BlockQ6_K* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK_K) {
    uint8_t L[kQK_K];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = fit_scale_sym(16, 32, x + 16 * s, L + 16 * s);
      if (std::fabs(scales[s]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    if (max_abs_scale < 1e-15f) {
      std::memset(&y[b], 0, sizeof(BlockQ6_K));
      continue;
    }
    // The largest scale maps to -128 so the int8 range is used fully.
    const float iscale = -128.f / max_scale;
    y[b].d = fp32_to_fp16(1.f / iscale);
    for (int s = 0; s < 16; ++s)
      y[b].scales[s] = int8_t(std::min(127, nearest_int(iscale * scales[s])));
    const float d = fp16_to_fp32(y[b].d);
    for (int s = 0; s < 16; ++s) {
      const float ds = d * y[b].scales[s];
      for (int l = 0; l < 16; ++l) {
        const int q = ds == 0.f ? 0 : std::clamp(nearest_int(x[16 * s + l] / ds), -32, 31);
        L[16 * s + l] = uint8_t(q + 32);
      }
    }
    // Each half of 128: ql byte l holds elements l (low) and l+64 (high), byte l+32 holds
    // l+32 and l+96; qh byte l holds the top 2 bits of l, l+32, l+64, l+96.
    for (int h = 0; h < 2; ++h) {
      const uint8_t* Lh = L + 128 * h;
      uint8_t* ql = y[b].ql + 64 * h;
      uint8_t* qh = y[b].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = uint8_t((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
        ql[l + 32] = uint8_t((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
        qh[l] = uint8_t((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                        ((Lh[l + 96] >> 4) << 6));
      }
    }
  }
}

void dequantize_q6_k(const BlockQ6_K* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      const int8_t* sc = x[b].scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

}  // namespace modelswarm::kernels
