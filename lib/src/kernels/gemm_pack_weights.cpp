// Portable packing of weight rows into the layout of gemm_packed.hpp, for ISAs without gathers.
// The AVX-512 packers (gemm_avx512.cpp) produce the same bytes.
#include <cstring>

#include "kernels/gemm_packed.hpp"
#include "kernels/kquant2.hpp"
#include "kernels/q32_formats.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
// Lanes of f.lane_elements elements from blocks of `block_elements`: block b's sub-block `sub`
// is lane b·per_block + sub of the row. levels(block, sub, out) writes that lane's unsigned
// levels in element order; scale_min(block, sub, scale, min) sets its scale and, for formats
// with one, its min. The levels are then dealt out 4 bytes per step (element e of a lane is
// byte e%4 of its dword in step e/4): contiguous loops the compiler vectorizes, where storing
// each element to its place took longer than the GEMM itself.
template <class Block, size_t block_elements, class Levels, class ScaleMin>
void pack_blocks(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst,
                 Levels levels, ScaleMin scale_min) {
  const size_t group_bytes = f.weight_group_bytes();
  // Empty lanes of a last, partial group must contribute nothing; the others are all written.
  if (f.groups > 0) std::memset(dst + (f.groups - 1) * group_bytes, 0, group_bytes);
  const auto* blocks = reinterpret_cast<const Block*>(row);
  const size_t lane_elements = size_t(f.lane_elements), steps = f.steps();
  const size_t per_block = block_elements / lane_elements;
  float unused_min = 0.f;
  alignas(32) uint8_t lane_levels[32];
  for (size_t b = 0; b < cols / block_elements; ++b) {
    for (size_t sub = 0; sub < per_block; ++sub) {
      const size_t at = b * per_block + sub, lane = at % 16;
      uint8_t* group = dst + (at / 16) * group_bytes;
      levels(blocks[b], int(sub), lane_levels);
      for (size_t s = 0; s < steps; ++s) std::memcpy(group + 64 * s + 4 * lane, lane_levels + 4 * s, 4);
      float* scale = reinterpret_cast<float*>(group + 16 * lane_elements);
      scale_min(blocks[b], int(sub), scale[lane], f.has_min ? scale[16 + lane] : unused_min);
    }
  }
}

// The 32-element formats: one block per lane, scale d; +m enters the min term as -m.
template <class Block, class Levels>
void pack_blocks32(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst,
                   Levels levels) {
  pack_blocks<Block, kQK8_0>(f, row, cols, dst, levels,
                             [](const Block& b, int, float& scale, float& min) {
                               scale = fp16_to_fp32(b.d);
                               if constexpr (requires { b.m; }) min = -fp16_to_fp32(b.m);
                             });
}

// The 32 nibbles of a Q4_0-style block in element order, each plus 16 times bit e of `high`.
inline void q32_levels(const uint8_t* qs, uint32_t high, uint8_t* out) {
  for (int e = 0; e < 16; ++e) {
    out[e] = uint8_t((qs[e] & 0x0f) | ((high >> e) & 1) << 4);
    out[e + 16] = uint8_t((qs[e] >> 4) | ((high >> (e + 16)) & 1) << 4);
  }
}

// Q2_K / Q3_K: the 16 elements of sub-block `sub` share a qs run and a bit pair in it; Q3_K adds
// 4 · the hmask bit (its level is q + 4).
inline void two_bit_levels(const uint8_t* qs, const uint8_t* hmask, int sub, uint8_t* out) {
  const int p = 16 * sub, shift = 2 * ((p % 128) / 32), hbit = 4 * (p / 128) + (p % 128) / 32;
  const uint8_t* q = qs + 32 * (p / 128) + p % 32;
  for (int e = 0; e < 16; ++e) out[e] = uint8_t((q[e] >> shift) & 3);
  if (hmask)
    for (int e = 0; e < 16; ++e) out[e] |= uint8_t(((hmask[p % 32 + e] >> hbit) & 1) << 2);
}

// Q4_K / Q5_K: sub-block `sub` is nibble sub%2 of qs bytes 32·(sub/2)...
inline void k_nibbles(const uint8_t* qs, int sub, uint8_t* out) {
  for (int e = 0; e < 32; ++e) out[e] = uint8_t((qs[32 * (sub / 2) + e] >> (4 * (sub % 2))) & 0x0f);
}

// Q4_K / Q5_K: the 32-element sub-block's 6-bit (scale, min) codes times d and dmin.
template <class Block>
void k_scale_min(const Block& b, int sub, float& scale, float& min) {
  uint8_t sc, mn;
  q4k_scale_min(b.scales, sub, sc, mn);
  scale = fp16_to_fp32(b.d) * float(sc);
  min = fp16_to_fp32(b.dmin) * float(mn);
}

// IQ4_NL / IQ4_XS: 32 codebook indices as Q4_0's nibbles, each value + offset.
inline void iq4_levels(const PackedFormat& f, const uint8_t* qs, uint8_t* out) {
  q32_levels(qs, 0, out);
  for (int e = 0; e < 32; ++e) out[e] = uint8_t(kIQ4NLValues[out[e]] + f.offset);
}
}  // namespace

void pack_weights_q4_0(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks32<BlockQ4_0>(f, row, cols, dst,
                           [](const BlockQ4_0& b, int, uint8_t* out) { q32_levels(b.qs, 0, out); });
}

void pack_weights_q4_1(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks32<BlockQ4_1>(f, row, cols, dst,
                           [](const BlockQ4_1& b, int, uint8_t* out) { q32_levels(b.qs, 0, out); });
}

void pack_weights_q5_0(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks32<BlockQ5_0>(f, row, cols, dst, [](const BlockQ5_0& b, int, uint8_t* out) {
    q32_levels(b.qs, q5_high_bits(b.qh), out);
  });
}

void pack_weights_q5_1(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks32<BlockQ5_1>(f, row, cols, dst, [](const BlockQ5_1& b, int, uint8_t* out) {
    q32_levels(b.qs, q5_high_bits(b.qh), out);
  });
}

void pack_weights_iq4_nl(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks32<BlockIQ4_NL>(f, row, cols, dst,
                             [&](const BlockIQ4_NL& b, int, uint8_t* out) { iq4_levels(f, b.qs, out); });
}

void pack_weights_q8_0(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks32<BlockQ8_0>(f, row, cols, dst, [&](const BlockQ8_0& b, int, uint8_t* out) {
    for (int e = 0; e < 32; ++e) out[e] = uint8_t(b.qs[e] + f.offset);
  });
}

void pack_weights_q2_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks<BlockQ2_K, kQK_K>(
      f, row, cols, dst,
      [](const BlockQ2_K& b, int sub, uint8_t* out) { two_bit_levels(b.qs, nullptr, sub, out); },
      [](const BlockQ2_K& b, int sub, float& scale, float& min) {
        scale = fp16_to_fp32(b.d) * float(b.scales[sub] & 0x0f);
        min = fp16_to_fp32(b.dmin) * float(b.scales[sub] >> 4);
      });
}

void pack_weights_q3_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks<BlockQ3_K, kQK_K>(
      f, row, cols, dst,
      [](const BlockQ3_K& b, int sub, uint8_t* out) { two_bit_levels(b.qs, b.hmask, sub, out); },
      [](const BlockQ3_K& b, int sub, float& scale, float&) {
        scale = fp16_to_fp32(b.d) * float(q3k_scale(b.scales, sub) - 32);
      });
}

void pack_weights_q4_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks<BlockQ4_K, kQK_K>(
      f, row, cols, dst, [](const BlockQ4_K& b, int sub, uint8_t* out) { k_nibbles(b.qs, sub, out); },
      k_scale_min<BlockQ4_K>);
}

void pack_weights_q5_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks<BlockQ5_K, kQK_K>(
      f, row, cols, dst,
      [](const BlockQ5_K& b, int sub, uint8_t* out) {
        k_nibbles(b.qs, sub, out);
        for (int e = 0; e < 32; ++e) out[e] |= uint8_t(((b.qh[e] >> sub) & 1) << 4);
      },
      k_scale_min<BlockQ5_K>);
}

void pack_weights_q6_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks<BlockQ6_K, kQK_K>(
      f, row, cols, dst,
      [](const BlockQ6_K& b, int lane, uint8_t* out) {
        // 16 elements from 16·(lane%8) of half lane/8; their quadrant of 32 picks the ql run,
        // its nibble and the qh bit pair.
        const int half = lane / 8, quad = (lane % 8) / 2, at = 16 * (lane % 2);
        const uint8_t* ql = b.ql + 64 * half + 32 * (quad % 2) + at;
        const uint8_t* qh = b.qh + 32 * half + at;
        for (int e = 0; e < 16; ++e)
          out[e] = uint8_t(((ql[e] >> (4 * (quad / 2))) & 0x0f) | ((qh[e] >> (2 * quad)) & 3) << 4);
      },
      [](const BlockQ6_K& b, int lane, float& scale, float&) {
        scale = fp16_to_fp32(b.d) * float(b.scales[lane]);
      });
}

void pack_weights_iq4_xs(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  pack_blocks<BlockIQ4_XS, kQK_K>(
      f, row, cols, dst,
      [&](const BlockIQ4_XS& b, int sub, uint8_t* out) { iq4_levels(f, b.qs + 16 * sub, out); },
      [](const BlockIQ4_XS& b, int sub, float& scale, float&) {
        scale = fp16_to_fp32(b.d) * float(iq4xs_scale(b, sub) - 32);
      });
}

}  // namespace modelswarm::kernels
