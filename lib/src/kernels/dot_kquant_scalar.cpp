// Reference dot products of K-quant weights (Q4_K, Q6_K) with Q8_K activations. Within a
// super-block everything is an exact integer sum; one float scaling per super-block.
#include "kernels/kernel_table.hpp"
#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

float dot_q4_k_q8_k_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ4_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    uint8_t sc[8];
    const int summ = k_scales_min_sum(w[b].scales, x[b].bsums, sc);
    int sumi = 0;
    for (int s = 0; s < 8; ++s) {
      const uint8_t* q = w[b].qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      int si = 0;
      for (int l = 0; l < 32; ++l) si += ((q[l] >> shift) & 0x0f) * x[b].qs[32 * s + l];
      sumi += sc[s] * si;
    }
    sum += x[b].d * (fp16_to_fp32(w[b].d) * float(sumi) - fp16_to_fp32(w[b].dmin) * float(summ));
  }
  return sum;
}

float dot_q6_k_q8_k_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ6_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    int sumi = 0;
    for (int s = 0; s < 16; ++s) {
      // Sub-block s covers elements 16s..16s+15 of the super-block.
      int si = 0;
      for (int l = 0; l < 16; ++l) {
        const int e = 16 * s + l, h = e / 128, p = e % 128;
        const int lo = (w[b].ql[64 * h + p % 64] >> (4 * (p / 64))) & 0x0f;
        const int hi = (w[b].qh[32 * h + p % 32] >> (2 * (p / 32))) & 3;
        si += ((lo | (hi << 4)) - 32) * x[b].qs[e];
      }
      sumi += w[b].scales[s] * si;
    }
    sum += x[b].d * fp16_to_fp32(w[b].d) * float(sumi);
  }
  return sum;
}

}  // namespace modelswarm::kernels
