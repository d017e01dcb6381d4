// Byte grouping of float tensors before compression. In trained weights the sign+exponent bits of
// neighbouring values are few and repetitive while the mantissa bits are close to random; stored
// interleaved they defeat an entropy coder, stored apart the exponent plane shrinks ~2.7x.
//
// Transform for an element width w (2 for BF16/F16, 4 for F32), little-endian elements:
//   1. rotate each element left by one bit, so the sign moves to the lowest bit and the whole
//      exponent of BF16/F32 lands in the most significant byte;
//   2. write byte plane w-1 (most significant) of every element, then plane w-2, ..., plane 0.
// Trailing bytes that do not form a whole element are copied unchanged after the planes.
// The rotation measured 0.4-2% better than plain planes on BF16/F32 and never worse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace modelswarm {

// REQUIRES: width is 2 or 4; out.size() == in.size(); in and out do not overlap.
void byte_group(unsigned width, std::span<const uint8_t> in, std::span<uint8_t> out);
// Inverse of byte_group. Same requirements.
void byte_ungroup(unsigned width, std::span<const uint8_t> in, std::span<uint8_t> out);

}  // namespace modelswarm
