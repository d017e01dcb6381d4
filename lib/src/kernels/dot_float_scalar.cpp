// Reference dot products of float weights (F32, F16, BF16) with float activations.
#include "kernels/kernel_table.hpp"

namespace modelswarm::kernels {

float dot_f32_scalar(const float* a, const float* b, size_t n) {
  float sum = 0;
  for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy_f32_scalar(float a, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

float dot_f32_f32_scalar(size_t k, const void* w, const void* x) {
  return dot_f32_scalar(static_cast<const float*>(w), static_cast<const float*>(x), k);
}

float dot_f16_f32_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const uint16_t*>(vw);
  const auto* x = static_cast<const float*>(vx);
  float sum = 0;
  for (size_t i = 0; i < k; ++i) sum += fp16_to_fp32(w[i]) * x[i];
  return sum;
}

float dot_bf16_f32_scalar(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const uint16_t*>(vw);
  const auto* x = static_cast<const float*>(vx);
  float sum = 0;
  for (size_t i = 0; i < k; ++i) sum += bf16_to_fp32(w[i]) * x[i];
  return sum;
}

}  // namespace modelswarm::kernels
