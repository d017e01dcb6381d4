#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q4_k(const float* x, BlockQ4_K* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK_K) {
    uint8_t L[kQK_K];
    fit_k_scale_min(x, 15, y[b].scales, y[b].d, y[b].dmin, L);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        y[b].qs[32 * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
  }
}

void dequantize_q4_k(const BlockQ4_K* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc0, m0, sc1, m1;
      q4k_scale_min(x[b].scales, 2 * c, sc0, m0);
      q4k_scale_min(x[b].scales, 2 * c + 1, sc1, m1);
      const float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
      const uint8_t* q = x[b].qs + 32 * c;
      for (int l = 0; l < 32; ++l) *y++ = d0 * float(q[l] & 0x0f) - mm0;
      for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] >> 4) - mm1;
    }
  }
}

}  // namespace modelswarm::kernels
