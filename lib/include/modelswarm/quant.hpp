// Tensor element formats of GGUF files as laid out in memory (llama.cpp's block structs, bit for
// bit), exact scalar fp16/bf16 conversion, and whole-row quantize / dequantize.
//
// Block layouts (all little-endian, no padding):
//   Q4_0: fp16 d, 16 bytes; byte j holds element j (low nibble) and j+16 (high); x = (q-8)*d.
//   Q8_0: fp16 d, 32 int8;  x = q*d.
//   Q4_1: fp16 d, fp16 m, 16 bytes of nibbles as Q4_0; x = q*d + m.
//   Q5_0: fp16 d, 4 bytes qh, 16 bytes qs; the low 4 bits as Q4_0's nibbles, bit 4 of element j
//         is bit j of qh read as a little-endian uint32; x = (q-16)*d.
//   Q5_1: fp16 d, fp16 m, 4 bytes qh, 16 bytes qs, bits as Q5_0; x = q*d + m.
//   IQ4_NL: fp16 d, 16 bytes of nibbles as Q4_0, each an index into the fixed 16-entry codebook
//         kIQ4NLValues; x = kIQ4NLValues[q]*d.
//   Q4_K: 256 elements = 8 sub-blocks of 32. fp16 d, fp16 dmin, 12 bytes of packed 6-bit
//         (scale, min) per sub-block, 128 bytes of nibbles; x = d*sc*q - dmin*m.
//         qs[32*c + l] holds element l of sub-block 2c (low nibble) and of 2c+1 (high).
//   Q6_K: 256 elements = 16 sub-blocks of 16. 128 bytes low nibbles, 64 bytes high 2-bit pairs,
//         16 int8 scales, fp16 d; x = d*sc*(q-32).
//   Q8_K: 256 elements. float d, 256 int8, 16 int16 sums of each 16 q's (activations only).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"

namespace modelswarm {

inline constexpr size_t kQK4_0 = 32;
inline constexpr size_t kQK8_0 = 32;
inline constexpr size_t kQK_K = 256;  // K-quant super-block

struct BlockQ4_0 {
  uint16_t d;  // fp16
  uint8_t qs[kQK4_0 / 2];
};
struct BlockQ8_0 {
  uint16_t d;  // fp16
  int8_t qs[kQK8_0];
};
struct BlockQ4_1 {
  uint16_t d;  // fp16
  uint16_t m;  // fp16
  uint8_t qs[kQK4_0 / 2];
};
struct BlockQ5_0 {
  uint16_t d;  // fp16
  uint8_t qh[4];
  uint8_t qs[kQK4_0 / 2];
};
struct BlockQ5_1 {
  uint16_t d;  // fp16
  uint16_t m;  // fp16
  uint8_t qh[4];
  uint8_t qs[kQK4_0 / 2];
};
struct BlockIQ4_NL {
  uint16_t d;  // fp16
  uint8_t qs[kQK4_0 / 2];
};
// IQ4_NL's non-linear levels, a constant of the format (ggml's kvalues_iq4nl).
inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
struct BlockQ4_K {
  uint16_t d;     // fp16 super-scale of the sub-block scales
  uint16_t dmin;  // fp16 super-scale of the sub-block mins
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;  // fp16
};
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

// Must equal the block_bytes of the type table (ggml_type_traits()); the kernels' half of the
// table checks that at compile time too.
static_assert(sizeof(BlockQ4_0) == 18 && alignof(BlockQ4_0) == 2);
static_assert(sizeof(BlockQ8_0) == 34 && alignof(BlockQ8_0) == 2);
static_assert(sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// ---- fp16 / bf16 (IEEE binary16 and bfloat16), round to nearest even, NaN stays NaN ----------

inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24 is exact in float.
    const float v = float(mant) * 0x1p-24f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(v) | sign);
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

inline uint16_t fp32_to_fp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  const uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) {  // inf, or NaN kept quiet with its top payload bits
    return uint16_t(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u | ((a >> 13) & 0x3ffu) : 0u));
  }
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 rounds to infinity
  const uint32_t exp = a >> 23;
  if (exp >= 113) {  // normal half: rebias the exponent and round the 13 dropped bits
    const uint32_t r = a + 0xc8000fffu + ((a >> 13) & 1u);
    return uint16_t(sign | (r >> 13));
  }
  if (exp < 102) return sign;  // below half the smallest subnormal
  // Subnormal half: units of 2^-24.
  const uint32_t mant = (a & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - exp;  // 14..24
  uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return uint16_t(sign | q);
}

inline float bf16_to_fp32(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

inline uint16_t fp32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // quiet NaN
  return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// ---- rows ---------------------------------------------------------------------------------

// True for the types quantize_row / dequantize_row handle, those with row conversions in the type
// table: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q4_K, Q6_K, and Q8_K (the
// activation format of K-quant dot products).
bool quant_supported(GgmlType type);

// Quantizes n floats into `dst` (ggml_row_bytes(type, n) bytes). K-quants use a weighted
// per-sub-block search for scale and min, as llama.cpp's reference quantizer does.
// REQUIRES: src and dst do not overlap. Errors: unsupported type, n not a multiple of the block.
Status quantize_row(GgmlType type, const float* src, void* dst, size_t n);

// Expands n elements of `type` at `src` into floats.
Status dequantize_row(GgmlType type, const void* src, float* dst, size_t n);

}  // namespace modelswarm
