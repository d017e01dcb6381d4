// Q3_K rows: 16 sub-blocks of 16 elements on the 8 levels -4..3, signed 6-bit scales.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q3_k(const float* x, BlockQ3_K* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK_K) {
    std::memset(&y[b], 0, sizeof(BlockQ3_K));
    uint8_t L[kQK_K];
    float scales[16], max_scale = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = fit_scale_sym(16, 4, x + 16 * s, L + 16 * s);
      if (std::fabs(scales[s]) > std::fabs(max_scale)) max_scale = scales[s];
    }
    if (std::fabs(max_scale) < 1e-15f) {
      std::memset(L, 4, sizeof L);
    } else {
      // The largest scale maps to code -32 (the codes' longer side).
      const float iscale = -32.f / max_scale;
      y[b].d = fp32_to_fp16(1.f / iscale);
      const float d = fp16_to_fp32(y[b].d);
      for (int s = 0; s < 16; ++s) {
        const int code = std::clamp(nearest_int(iscale * scales[s]), -32, 31) + 32;
        y[b].scales[s % 8] |= uint8_t((code & 0x0f) << (4 * (s / 8)));
        y[b].scales[8 + s % 4] |= uint8_t((code >> 4) << (2 * (s / 4)));
        const float ds = d * float(code - 32);
        for (int l = 0; l < 16; ++l)
          L[16 * s + l] =
              uint8_t(ds == 0.f ? 4 : std::clamp(nearest_int(x[16 * s + l] / ds), -4, 3) + 4);
      }
    }
    for (int e = 0; e < int(kQK_K); ++e) {
      const int j = (e % 128) / 32, l = e % 32;
      y[b].qs[32 * (e / 128) + l] |= uint8_t((L[e] & 3) << (2 * j));
      y[b].hmask[l] |= uint8_t((L[e] >> 2) << (4 * (e / 128) + j));
    }
  }
}

void dequantize_q3_k(const BlockQ3_K* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK_K) {
    const float d = fp16_to_fp32(x[b].d);
    for (int e = 0; e < int(kQK_K); ++e) {
      const int j = (e % 128) / 32, l = e % 32;
      const int lo = (x[b].qs[32 * (e / 128) + l] >> (2 * j)) & 3;
      const int hi = (x[b].hmask[l] >> (4 * (e / 128) + j)) & 1;
      y[e] = d * float(q3k_scale(x[b].scales, e / 16) - 32) * float((lo | (hi << 2)) - 4);
    }
  }
}

}  // namespace modelswarm::kernels
