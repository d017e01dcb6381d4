#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q8_k(const float* x, BlockQ8_K* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK_K) {
    float amax = 0, max = 0;
    for (size_t j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0.f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.f / max;
    for (size_t j = 0; j < kQK_K; ++j)
      y[b].qs[j] = int8_t(std::min(127, nearest_int(iscale * x[j])));
    for (size_t g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (size_t j = 0; j < 16; ++j) sum += y[b].qs[g * 16 + j];
      y[b].bsums[g] = int16_t(sum);
    }
    y[b].d = 1.f / iscale;
  }
}

void dequantize_q8_k(const BlockQ8_K* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK_K)
    for (size_t j = 0; j < kQK_K; ++j) y[j] = x[b].d * float(x[b].qs[j]);
}

}  // namespace modelswarm::kernels
