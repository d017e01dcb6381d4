// Q5_K rows: Q4_K's scale search with 32 levels, the fifth bit of each level in qh.
#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q5_k(const float* x, BlockQ5_K* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK_K) {
    uint8_t L[kQK_K];
    fit_k_scale_min(x, 31, y[b].scales, y[b].d, y[b].dmin, L);
    std::memset(y[b].qh, 0, sizeof y[b].qh);
    for (int e = 0; e < int(kQK_K); ++e) {
      const int c = e / 64, half = (e / 32) % 2, l = e % 32;
      if (half == 0) y[b].qs[32 * c + l] = L[e] & 0x0f;
      else y[b].qs[32 * c + l] |= uint8_t((L[e] & 0x0f) << 4);
      y[b].qh[l] |= uint8_t((L[e] >> 4) << (e / 32));
    }
  }
}

void dequantize_q5_k(const BlockQ5_K* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK_K) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    for (int e = 0; e < int(kQK_K); ++e) {
      uint8_t sc, m;
      q4k_scale_min(x[b].scales, e / 32, sc, m);
      const int lo = (x[b].qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) % 2))) & 0x0f;
      const int hi = (x[b].qh[e % 32] >> (e / 32)) & 1;
      y[e] = d * sc * float(lo | (hi << 4)) - dmin * m;
    }
  }
}

}  // namespace modelswarm::kernels
