// Block formats, row conversions and dot kernels of the K-quants that GGUF downloads use besides
// Q4_K and Q6_K: Q5_K, Q3_K, Q2_K and IQ4_XS. Layouts are llama.cpp's block structs, bit for
// bit; all take Q8_K activations. Element e of a 256-element super-block:
//   Q5_K: qs[32*(e/64) + e%32] nibble (e/32)%2, plus 16 * bit e/32 of qh[e%32]; 8 sub-blocks
//         of 32 with Q4_K's 6-bit (scale, min) codes; x = d*sc*q - dmin*m.
//   Q3_K: bits 2*((e%128)/32) of qs[32*(e/128) + e%32] (2 bits), plus 4 * bit
//         4*(e/128) + (e%128)/32 of hmask[e%32]; q - 4 in -4..3. 16 sub-blocks of 16 with
//         signed 6-bit scales (q3k_scale); x = d*(sc-32)*(q-4).
//   Q2_K: the 2 bits as Q3_K; scales[e/16] holds scale (low nibble) and min (high);
//         x = d*sc*q - dmin*m.
//   IQ4_XS: 8 sub-blocks of 32; qs[16*(e/32) + e%16] nibble (e%32)/16 indexes kIQ4NLValues;
//         6-bit scale ls of sub-block i: nibble i%2 of scales_l[i/2], top 2 bits at bit 2i of
//         scales_h; x = d*(ls-32)*codebook[q].
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/quant_internal.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm::kernels {

struct BlockQ5_K {
  uint16_t d;     // fp16 super-scale of the sub-block scales
  uint16_t dmin;  // fp16 super-scale of the sub-block mins
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;  // fp16
};
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;     // fp16
  uint16_t dmin;  // fp16
};
struct BlockIQ4_XS {
  uint16_t d;  // fp16
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ2_K) == 84 &&
              sizeof(BlockIQ4_XS) == 136);

// Q3_K's sixteen 6-bit scale codes (0..63, meaning code - 32) in 12 bytes: code j's low nibble
// is nibble j/8 of byte j%8, its top 2 bits are bits 2*(j/4) of byte 8 + j%4.
inline int q3k_scale(const uint8_t* s, int j) {
  const int lo = (s[j % 8] >> (4 * (j / 8))) & 0x0f;
  const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return lo | (hi << 4);
}

// The eight 6-bit scales of a Q4_K / Q5_K block into sc, and Σ min · (Σx of its sub-block)
// over the 32-element sub-blocks, from the Q8_K sums of 16: the part of the dot product the
// mins contribute (to be scaled by dmin).
inline int k_scales_min_sum(const uint8_t* packed, const int16_t* bsums, uint8_t* sc) {
  int summ = 0;
  for (int s = 0; s < 8; ++s) {
    uint8_t m;
    q4k_scale_min(packed, s, sc[s], m);
    summ += m * (bsums[2 * s] + bsums[2 * s + 1]);
  }
  return summ;
}

inline int iq4xs_scale(const BlockIQ4_XS& b, int i) {
  return ((b.scales_l[i / 2] >> (4 * (i % 2))) & 0x0f) | (((b.scales_h >> (2 * i)) & 3) << 4);
}

// Fits the eight 32-element sub-blocks of a Q4_K / Q5_K super-block to levels 0..nmax with
// weighted least squares, and stores their (scale, min) as the formats do: 6-bit codes packed
// in `scales`, fp16 super-scales d and dmin. L gets the levels against the stored scales.
void fit_k_scale_min(const float* x, int nmax, uint8_t* scales, uint16_t& d, uint16_t& dmin,
                     uint8_t* L);
// The same for `sub`-element sub-blocks (16 or 32) with codes 0..code_max left unpacked in
// ls (scales) and lm (mins), one per sub-block.
void fit_sub_scale_min(const float* x, int sub, int nmax, int code_max, uint8_t* ls, uint8_t* lm,
                       uint16_t& d, uint16_t& dmin, uint8_t* L);

void quantize_q5_k(const float* x, BlockQ5_K* y, size_t nb);
void quantize_q3_k(const float* x, BlockQ3_K* y, size_t nb);
void quantize_q2_k(const float* x, BlockQ2_K* y, size_t nb);
void quantize_iq4_xs(const float* x, BlockIQ4_XS* y, size_t nb);
void dequantize_q5_k(const BlockQ5_K* x, float* y, size_t nb);
void dequantize_q3_k(const BlockQ3_K* x, float* y, size_t nb);
void dequantize_q2_k(const BlockQ2_K* x, float* y, size_t nb);
void dequantize_iq4_xs(const BlockIQ4_XS* x, float* y, size_t nb);

// Dot products with Q8_K activation rows: the scalar references, then each ISA's version of
// them (dot_kquant2_<isa>.cpp), which compute the same integer sums per super-block.
float dot_q5_k_q8_k_scalar(size_t k, const void* w, const void* x);
float dot_q3_k_q8_k_scalar(size_t k, const void* w, const void* x);
float dot_q2_k_q8_k_scalar(size_t k, const void* w, const void* x);
float dot_iq4_xs_q8_k_scalar(size_t k, const void* w, const void* x);
float dot_q5_k_q8_k_avx2(size_t k, const void* w, const void* x);
float dot_q3_k_q8_k_avx2(size_t k, const void* w, const void* x);
float dot_q2_k_q8_k_avx2(size_t k, const void* w, const void* x);
float dot_iq4_xs_q8_k_avx2(size_t k, const void* w, const void* x);
float dot_q5_k_q8_k_avx512(size_t k, const void* w, const void* x);
float dot_q3_k_q8_k_avx512(size_t k, const void* w, const void* x);
float dot_q2_k_q8_k_avx512(size_t k, const void* w, const void* x);
float dot_iq4_xs_q8_k_avx512(size_t k, const void* w, const void* x);

}  // namespace modelswarm::kernels
