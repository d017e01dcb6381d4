// Reference dot products of Q5_K, Q3_K, Q2_K and IQ4_XS weights with Q8_K activations. Within a
// super-block everything is an exact integer sum; one float scaling per super-block, which the
// SIMD versions repeat exactly.
#include "modelswarm/quant.hpp"
#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

float dot_q5_k_q8_k_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ5_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    uint8_t sc[8];
    const int summ = k_scales_min_sum(w[b].scales, x[b].bsums, sc);
    int sumi = 0;
    for (int s = 0; s < 8; ++s) {
      int si = 0;
      for (int l = 0; l < 32; ++l) {
        const int lo = (w[b].qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0x0f;
        const int hi = (w[b].qh[l] >> s) & 1;
        si += (lo | (hi << 4)) * x[b].qs[32 * s + l];
      }
      sumi += sc[s] * si;
    }
    sum += x[b].d * (fp16_to_fp32(w[b].d) * float(sumi) - fp16_to_fp32(w[b].dmin) * float(summ));
  }
  return sum;
}

float dot_q3_k_q8_k_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ3_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    int sumi = 0;
    for (int s = 0; s < 16; ++s) {
      int si = 0;
      for (int l = 0; l < 16; ++l) {
        const int e = 16 * s + l, j = (e % 128) / 32;
        const int lo = (w[b].qs[32 * (e / 128) + e % 32] >> (2 * j)) & 3;
        const int hi = (w[b].hmask[e % 32] >> (4 * (e / 128) + j)) & 1;
        si += ((lo | (hi << 2)) - 4) * x[b].qs[e];
      }
      sumi += (q3k_scale(w[b].scales, s) - 32) * si;
    }
    sum += x[b].d * fp16_to_fp32(w[b].d) * float(sumi);
  }
  return sum;
}

float dot_q2_k_q8_k_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ2_K*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    int sumi = 0, summ = 0;
    for (int s = 0; s < 16; ++s) {
      int si = 0;
      for (int l = 0; l < 16; ++l) {
        const int e = 16 * s + l;
        si += ((w[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3) * x[b].qs[e];
      }
      sumi += (w[b].scales[s] & 0x0f) * si;
      summ += (w[b].scales[s] >> 4) * x[b].bsums[s];
    }
    sum += x[b].d * (fp16_to_fp32(w[b].d) * float(sumi) - fp16_to_fp32(w[b].dmin) * float(summ));
  }
  return sum;
}

float dot_iq4_xs_q8_k_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockIQ4_XS*>(vw);
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK_K; ++b) {
    int sumi = 0;
    for (int s = 0; s < 8; ++s) {
      int si = 0;
      for (int l = 0; l < 32; ++l) {
        const int q = (w[b].qs[16 * s + l % 16] >> (4 * (l / 16))) & 0x0f;
        si += kIQ4NLValues[q] * x[b].qs[32 * s + l];
      }
      sumi += (iq4xs_scale(w[b], s) - 32) * si;
    }
    sum += x[b].d * fp16_to_fp32(w[b].d) * float(sumi);
  }
  return sum;
}

}  // namespace modelswarm::kernels
