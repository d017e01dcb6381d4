// Per-format row quantizers and dequantizers behind quantize_row / dequantize_row (through the
// type table, type_kernels.cpp). Block formats take a whole number of blocks (`nb`), float
// formats a number of elements; the caller checked the row length.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "modelswarm/quant.hpp"

namespace modelswarm::kernels {

void quantize_q4_0(const float* x, BlockQ4_0* y, size_t nb);
void quantize_q8_0(const float* x, BlockQ8_0* y, size_t nb);
void quantize_q4_k(const float* x, BlockQ4_K* y, size_t nb);
void quantize_q6_k(const float* x, BlockQ6_K* y, size_t nb);
void quantize_q8_k(const float* x, BlockQ8_K* y, size_t nb);

void dequantize_q4_0(const BlockQ4_0* x, float* y, size_t nb);
void dequantize_q8_0(const BlockQ8_0* x, float* y, size_t nb);
void dequantize_q4_k(const BlockQ4_K* x, float* y, size_t nb);
void dequantize_q6_k(const BlockQ6_K* x, float* y, size_t nb);
void dequantize_q8_k(const BlockQ8_K* x, float* y, size_t nb);

void quantize_f32(const float* x, void* y, size_t n);
void dequantize_f32(const void* x, float* y, size_t n);
void quantize_f16(const float* x, void* y, size_t n);
void dequantize_f16(const void* x, float* y, size_t n);
void quantize_bf16(const float* x, void* y, size_t n);
void dequantize_bf16(const void* x, float* y, size_t n);

// Q4_K packs eight 6-bit (scale, min) pairs into 12 bytes: pairs 0-3 in the low 6 bits of bytes
// 0-3 / 4-7; pairs 4-7 as nibbles of bytes 8-11 with their top 2 bits in the spare top bits of
// bytes 0-3 (scales) and 4-7 (mins).
inline void q4k_scale_min(const uint8_t* s, int j, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = uint8_t((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
    m = uint8_t((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Round half to even, like llama.cpp's nearest_int: adding 1.5·2^23 leaves the rounded integer
// in the low mantissa bits. Inline (std::nearbyint is a libm call on baseline x86-64); inputs
// are clamped to ±2^22, where the trick is exact, and NaN gives some integer, never UB.
inline int nearest_int(float v) {
  v = v < -4194303.f ? -4194303.f : (v > 4194303.f ? 4194303.f : v);
  const float t = v + 12582912.f;
  uint32_t i;
  std::memcpy(&i, &t, 4);
  return int(i & 0x007fffff) - 0x00400000;
}

// The element of largest magnitude, with its sign; 0 when all are 0.
inline float signed_absmax(const float* x, size_t n) {
  float amax = 0, max = 0;
  for (size_t j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

// float to int by truncation; 0 for NaN and values beyond ±2^30 (where the cast would be UB).
inline int trunc_int(float v) { return std::fabs(v) < 1073741824.f ? int(v) : 0; }

// Rounds half away from zero, like roundf, for |v| < 2^23; inline, exact.
inline int round_away(float v) {
  const int i = trunc_int(v);
  const float frac = v - float(i);
  return i + (frac >= 0.5f) - (frac <= -0.5f);
}

// Fits x[i] ~ scale*L[i] - mn with L[i] in [0, nmax], minimising the w-weighted squared error
// over a small range of candidate step sizes. Returns scale; mn >= 0.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float& mn);

// Fits x[i] ~ scale*L[i] with L[i] in [-nmax, nmax-1], weights x[i]^2, searching around
// -nmax/max. Returns scale (possibly negative); writes L[i] + nmax.
float fit_scale_sym(int n, int nmax, const float* x, uint8_t* L);

}  // namespace modelswarm::kernels
