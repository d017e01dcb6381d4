// Portable packing of weight rows into the layout of gemm_packed.hpp, for ISAs without gathers.
// The AVX-512 packers (gemm_avx512.cpp) produce the same bytes.
#include <cstring>

#include "kernels/gemm_packed.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
struct GroupOut {
  uint8_t* levels;
  float* scale;
  float* min;  // has_min only
};

GroupOut weight_group(const PackedFormat& f, uint8_t* dst, size_t g) {
  uint8_t* p = dst + g * f.weight_group_bytes();
  float* scale = reinterpret_cast<float*>(p + 16 * size_t(f.lane_elements));
  return {p, scale, scale + 16};
}

// Element e of lane `lane`: byte e%4 of that lane's dword in step e/4.
inline void put(GroupOut& out, int lane, int e, uint8_t level) {
  out.levels[64 * (e / 4) + 4 * lane + e % 4] = level;
}

// Empty lanes of a last, partial group must contribute nothing.
void clear(const PackedFormat& f, uint8_t* dst) {
  std::memset(dst, 0, f.groups * f.weight_group_bytes());
}
}  // namespace

void pack_weights_q4_0(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  clear(f, dst);
  const auto* blocks = reinterpret_cast<const BlockQ4_0*>(row);
  for (size_t b = 0; b < cols / kQK4_0; ++b) {
    GroupOut out = weight_group(f, dst, b / 16);
    const int lane = int(b % 16);
    for (int e = 0; e < 16; ++e) {
      put(out, lane, e, blocks[b].qs[e] & 0x0f);
      put(out, lane, e + 16, blocks[b].qs[e] >> 4);
    }
    out.scale[lane] = fp16_to_fp32(blocks[b].d);
  }
}

void pack_weights_q8_0(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  clear(f, dst);
  const auto* blocks = reinterpret_cast<const BlockQ8_0*>(row);
  for (size_t b = 0; b < cols / kQK8_0; ++b) {
    GroupOut out = weight_group(f, dst, b / 16);
    const int lane = int(b % 16);
    for (int e = 0; e < 32; ++e) put(out, lane, e, uint8_t(blocks[b].qs[e] + f.offset));
    out.scale[lane] = fp16_to_fp32(blocks[b].d);
  }
}

void pack_weights_q4_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  clear(f, dst);
  const auto* blocks = reinterpret_cast<const BlockQ4_K*>(row);
  for (size_t sb = 0; sb < cols / kQK_K; ++sb) {
    const BlockQ4_K& b = blocks[sb];
    GroupOut out = weight_group(f, dst, sb / 2);
    for (int sub = 0; sub < 8; ++sub) {
      // Sub-block `sub` is nibble sub%2 of qs bytes 32·(sub/2)...
      const int lane = int(sb % 2) * 8 + sub;
      for (int e = 0; e < 32; ++e)
        put(out, lane, e, (b.qs[32 * (sub / 2) + e] >> (4 * (sub % 2))) & 0x0f);
      uint8_t sc, mn;
      q4k_scale_min(b.scales, sub, sc, mn);
      out.scale[lane] = fp16_to_fp32(b.d) * float(sc);
      out.min[lane] = fp16_to_fp32(b.dmin) * float(mn);
    }
  }
}

void pack_weights_q6_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst) {
  clear(f, dst);
  const auto* blocks = reinterpret_cast<const BlockQ6_K*>(row);
  for (size_t sb = 0; sb < cols / kQK_K; ++sb) {
    const BlockQ6_K& b = blocks[sb];
    GroupOut out = weight_group(f, dst, sb);
    for (int lane = 0; lane < 16; ++lane) {
      // 16 elements from 16·(lane%8) of half lane/8; their quadrant of 32 picks the ql run,
      // its nibble and the qh bit pair.
      const int half = lane / 8, quad = (lane % 8) / 2, at = 16 * (lane % 2);
      const uint8_t* ql = b.ql + 64 * half + 32 * (quad % 2) + at;
      const uint8_t* qh = b.qh + 32 * half + at;
      for (int e = 0; e < 16; ++e) {
        const int lo = (ql[e] >> (4 * (quad / 2))) & 0x0f, hi = (qh[e] >> (2 * quad)) & 3;
        put(out, lane, e, uint8_t(lo | hi << 4));
      }
      out.scale[lane] = fp16_to_fp32(b.d) * float(b.scales[lane]);
    }
  }
}

}  // namespace modelswarm::kernels
