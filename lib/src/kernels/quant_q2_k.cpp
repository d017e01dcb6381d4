// Q2_K rows: 16 sub-blocks of 16 elements on 4 levels with a min, scale and min coded in 4 bits.
#include <cstring>

#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q2_k(const float* x, BlockQ2_K* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK_K) {
    uint8_t L[kQK_K], ls[16], lm[16];
    fit_sub_scale_min(x, 16, 3, 15, ls, lm, y[b].d, y[b].dmin, L);
    for (int s = 0; s < 16; ++s) y[b].scales[s] = uint8_t(ls[s] | (lm[s] << 4));
    std::memset(y[b].qs, 0, sizeof y[b].qs);
    for (int e = 0; e < int(kQK_K); ++e)
      y[b].qs[32 * (e / 128) + e % 32] |= uint8_t(L[e] << (2 * ((e % 128) / 32)));
  }
}

void dequantize_q2_k(const BlockQ2_K* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK_K) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    for (int e = 0; e < int(kQK_K); ++e) {
      const uint8_t sc = x[b].scales[e / 16];
      const int q = (x[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      y[e] = d * float(sc & 0x0f) * float(q) - dmin * float(sc >> 4);
    }
  }
}

}  // namespace modelswarm::kernels
