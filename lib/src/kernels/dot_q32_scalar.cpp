// Reference dot products of 32-element block formats (Q4_0, Q8_0) with Q8_0 activations.
#include "kernels/kernel_table.hpp"

namespace modelswarm::kernels {

float dot_q4_0_q8_0_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ4_0*>(vw);
  const auto* x = static_cast<const BlockQ8_0*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK4_0; ++b) {
    int sumi = 0;
    for (size_t j = 0; j < kQK4_0 / 2; ++j) {
      sumi += ((w[b].qs[j] & 0x0f) - 8) * x[b].qs[j];
      sumi += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + kQK4_0 / 2];
    }
    sum += float(sumi) * (fp16_to_fp32(w[b].d) * fp16_to_fp32(x[b].d));
  }
  return sum;
}

float dot_q8_0_q8_0_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const BlockQ8_0*>(vw);
  const auto* x = static_cast<const BlockQ8_0*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK8_0; ++b) {
    int sumi = 0;
    for (size_t j = 0; j < kQK8_0; ++j) sumi += w[b].qs[j] * x[b].qs[j];
    sum += float(sumi) * (fp16_to_fp32(w[b].d) * fp16_to_fp32(x[b].d));
  }
  return sum;
}

}  // namespace modelswarm::kernels
