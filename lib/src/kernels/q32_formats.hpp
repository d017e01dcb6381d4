// The other 32-element block formats of GGUF files: Q4_1, Q5_0, Q5_1 and IQ4_NL (layouts in
// modelswarm/quant.hpp). Their row conversions and dot kernels, and the bit helpers those share.
//
// Activations: all four take Q8_0 values, and their SIMD kernels the "Q8_0 pairs" records of
// decode_acts.hpp, as Q4_0 does. ggml pairs Q4_1 and Q5_1 with Q8_1 for the block sums Σx their
// min term needs (m·dx·Σx); a pair record already holds -8·Σx per dword (Q4_0's offset), so
// the same record serves every format here and one activation conversion per matvec does for
// all of them. Q5_0 and IQ4_NL use the sums as offsets of unsigned levels (16·Σx, 128·Σx).
// Prefill packs them for the int8 GEMM (gemm_packed.hpp); IQ4_NL on AVX-512 only, its levels
// (up to 241) being too large for AVX2's int16 pair sums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "modelswarm/quant.hpp"

namespace modelswarm::kernels {

void quantize_q4_1(const float* x, BlockQ4_1* y, size_t nb);
void quantize_q5_0(const float* x, BlockQ5_0* y, size_t nb);
void quantize_q5_1(const float* x, BlockQ5_1* y, size_t nb);
void quantize_iq4_nl(const float* x, BlockIQ4_NL* y, size_t nb);

void dequantize_q4_1(const BlockQ4_1* x, float* y, size_t nb);
void dequantize_q5_0(const BlockQ5_0* x, float* y, size_t nb);
void dequantize_q5_1(const BlockQ5_1* x, float* y, size_t nb);
void dequantize_iq4_nl(const BlockIQ4_NL* x, float* y, size_t nb);

// Dot products of weight rows with Q8_0 activation rows (scalar references) or with Q8_0 pair
// records (AVX2, AVX-512); signatures as DotFn in kernel_table.hpp.
float dot_q4_1_q8_0_scalar(size_t k, const void* w, const void* x);
float dot_q5_0_q8_0_scalar(size_t k, const void* w, const void* x);
float dot_q5_1_q8_0_scalar(size_t k, const void* w, const void* x);
float dot_iq4_nl_q8_0_scalar(size_t k, const void* w, const void* x);
float dot_q4_1_q8_pairs_avx2(size_t k, const void* w, const void* x);
float dot_q5_0_q8_pairs_avx2(size_t k, const void* w, const void* x);
float dot_q5_1_q8_pairs_avx2(size_t k, const void* w, const void* x);
float dot_iq4_nl_q8_pairs_avx2(size_t k, const void* w, const void* x);
float dot_q4_1_q8_pairs_avx512(size_t k, const void* w, const void* x);
float dot_q5_0_q8_pairs_avx512(size_t k, const void* w, const void* x);
float dot_q5_1_q8_pairs_avx512(size_t k, const void* w, const void* x);
float dot_iq4_nl_q8_pairs_avx512(size_t k, const void* w, const void* x);

// The 4-bit field of element j (0-31): Q4_0's nibble order.
inline int q32_nibble(const uint8_t* qs, int j) { return j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4; }

// Q5 blocks' fifth bits: bit j of qh, as a little-endian uint32, belongs to element j.
inline uint32_t q5_high_bits(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

// The 5-bit level (0-31) of element j of a Q5 block.
inline int q5_level(const uint8_t* qs, uint32_t qh, int j) {
  return q32_nibble(qs, j) | int((qh >> j) & 1u) << 4;
}

// Writes levels L[0..31] (< 16, or < 32 with qh) in the nibble order and, when qh is given,
// their fifth bits.
inline void pack_q32_levels(const uint8_t* L, uint8_t* qs, uint8_t* qh) {
  uint32_t high = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = uint8_t((L[j] & 0x0f) | (L[j + 16] & 0x0f) << 4);
    high |= uint32_t(L[j] >> 4) << j | uint32_t(L[j + 16] >> 4) << (j + 16);
  }
  if (qh) std::memcpy(qh, &high, 4);
}

}  // namespace modelswarm::kernels
