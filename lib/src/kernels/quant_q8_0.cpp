#include <cmath>

#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q8_0(const float* x, BlockQ8_0* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK8_0) {
    float amax = 0;
    for (size_t j = 0; j < kQK8_0; ++j) {
      const float a = std::fabs(x[j]);
      amax = a > amax ? a : amax;
    }
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    for (size_t j = 0; j < kQK8_0; ++j) y[b].qs[j] = int8_t(round_away(x[j] * id));
  }
}

void dequantize_q8_0(const BlockQ8_0* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK8_0) {
    const float d = fp16_to_fp32(x[b].d);
    for (size_t j = 0; j < kQK8_0; ++j) y[j] = float(x[b].qs[j]) * d;
  }
}

}  // namespace modelswarm::kernels
