#include <algorithm>
#include <cmath>

#include "kernels/kernel_table.hpp"

namespace modelswarm {

using namespace kernels;

float dot_f32(const float* a, const float* b, size_t n) { return active_table().dot_f32(a, b, n); }

void axpy_f32(float a, const float* x, float* y, size_t n) { active_table().axpy_f32(a, x, y, n); }

void rmsnorm_f32(const float* x, const float* w, float* y, size_t n, float eps) {
  double ss = 0;  // double: n can be tens of thousands
  for (size_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const float scale = float(1.0 / std::sqrt(ss / double(n) + eps));
  for (size_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
}

void softmax_f32(float* x, size_t n) { active_table().softmax_f32(x, n); }

void silu_mul_f32(const float* gate, const float* up, float* out, size_t n) {
  active_table().silu_mul_f32(gate, up, out, n);
}

void gelu_mul_f32(const float* gate, const float* up, float* out, size_t n) {
  active_table().gelu_mul_f32(gate, up, out, n);
}

namespace kernels {

void softmax_f32_scalar(float* x, size_t n) {
  if (n == 0) return;
  const float mx = *std::max_element(x, x + n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul_f32_scalar(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.f + std::exp(-g)) * up[i];
  }
}

// gelu_tanh(g) = 0.5·g·(1 + tanh(u)) with u = √(2/π)·(g + 0.044715·g³), as llama.cpp's GELU.
void gelu_mul_f32_scalar(const float* gate, const float* up, float* out, size_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f, kCubic = 0.044715f;
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = 0.5f * g * (1.f + std::tanh(kSqrt2OverPi * g * (1.f + kCubic * g * g))) * up[i];
  }
}

}  // namespace kernels

}  // namespace modelswarm
