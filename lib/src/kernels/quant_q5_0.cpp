// Q5_0: a signed 5-bit level per element, one scale per 32.
#include <algorithm>

#include "kernels/q32_formats.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q5_0(const float* x, BlockQ5_0* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK4_0) {
    // As Q4_0: the element of largest magnitude maps to -16, so its sign gets the extra level.
    const float d = signed_absmax(x, kQK4_0) / -16.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[b].d = fp32_to_fp16(d);
    uint8_t L[kQK4_0];
    // Truncation of v + 16.5 rounds half up, as llama.cpp's reference quantizer does.
    for (size_t j = 0; j < kQK4_0; ++j)
      L[j] = uint8_t(std::clamp(trunc_int(x[j] * id + 16.5f), 0, 31));
    pack_q32_levels(L, y[b].qs, y[b].qh);
  }
}

void dequantize_q5_0(const BlockQ5_0* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK4_0) {
    const float d = fp16_to_fp32(x[b].d);
    const uint32_t qh = q5_high_bits(x[b].qh);
    for (int j = 0; j < int(kQK4_0); ++j) y[j] = float(q5_level(x[b].qs, qh, j) - 16) * d;
  }
}

}  // namespace modelswarm::kernels
