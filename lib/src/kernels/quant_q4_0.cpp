#include <algorithm>
#include <cmath>

#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q4_0(const float* x, BlockQ4_0* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK4_0) {
    // The element of largest magnitude maps to -8, so its sign gets the extra level.
    const float d = signed_absmax(x, kQK4_0) / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    for (size_t j = 0; j < kQK4_0 / 2; ++j) {
      // Truncation of v + 8.5 rounds half up, as llama.cpp's reference quantizer does.
      const int lo = std::min(15, trunc_int(x[j] * id + 8.5f));
      const int hi = std::min(15, trunc_int(x[j + kQK4_0 / 2] * id + 8.5f));
      y[b].qs[j] = uint8_t(lo | (hi << 4));
    }
  }
}

void dequantize_q4_0(const BlockQ4_0* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK4_0) {
    const float d = fp16_to_fp32(x[b].d);
    for (size_t j = 0; j < kQK4_0 / 2; ++j) {
      y[j] = float((x[b].qs[j] & 0x0f) - 8) * d;
      y[j + kQK4_0 / 2] = float((x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

}  // namespace modelswarm::kernels
