// Activation layouts of the SIMD decode kernels for Q4_0 (AVX-512, AVX2) and Q4_K (AVX-512).
// Both hold the values of the usual activation format (Q8_0, Q8_K), exactly, rearranged once
// per matvec so that the per-row kernels need no shuffles on the activation side.
//
// "Q8_0 pairs", for Q4_0: each pair of Q8_0 blocks (a, b) of the activation row becomes one
// 192-byte record:
//   bytes   0-63   int8 values [a 0-15, b 0-15, a 16-31, b 16-31], the order in which two
//                  Q4_0 blocks' nibbles come out of [qs_a, qs_b, qs_a >> 4, qs_b >> 4];
//   bytes  64-127  int32[16] -8 · (sum of the 4 values of that dword): Q4_0 levels are used as
//                  unsigned q = w + 8, so this starts each lane's sum at the offset's share;
//   bytes 128-191  float[16] the scale of the block each dword belongs to.
// An odd last block is a pair whose block b is all zeros. The values are exactly those of
// quantize_q8_0, so results equal the Q8_0 dot products up to float summation order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "modelswarm/quant.hpp"

namespace modelswarm::kernels {

// An activation layout of a decode kernel's own, named in the type table (type_kernels.cpp)
// next to that kernel.
struct ActLayout {
  size_t (*row_bytes)(size_t cols);
  // Converts `cols` floats (a whole number of the weight type's blocks) into row_bytes(cols).
  void (*convert)(const float* x, void* dst, size_t cols);
};

constexpr size_t kQ8PairBytes = 192;

inline size_t q8_pairs_row_bytes(size_t cols) { return (cols / 32 + 1) / 2 * kQ8PairBytes; }

void quantize_q8_pairs(const float* x, void* dst, size_t cols);

inline constexpr ActLayout kQ8Pairs{q8_pairs_row_bytes, quantize_q8_pairs};

// "Q8_K in Q4_K order", for Q4_K: Q8_K blocks (d, bsums unchanged) whose 256 values are
// permuted so that 64-byte chunk c holds, for j = 0..3, elements 8c..8c+7 of 32-element
// sub-block 2j and then of 2j+1. Two int32 lanes of a vpdpbusd then always belong to the same
// sub-block (lane l to l/2), whatever c: the four chunks accumulate in one register and the
// sub-block scales are applied once per block. As many bytes as Q8_K rows.
void quantize_q8_k_q4k_order(const float* x, void* dst, size_t cols);

inline size_t q8_k_row_bytes(size_t cols) { return cols / kQK_K * sizeof(BlockQ8_K); }

inline constexpr ActLayout kQ8KInQ4KOrder{q8_k_row_bytes, quantize_q8_k_q4k_order};

}  // namespace modelswarm::kernels
