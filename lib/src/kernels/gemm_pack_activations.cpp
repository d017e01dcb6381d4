#include <cstring>

#include "kernels/gemm_packed.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

bool packed_format(GgmlType type, size_t cols, PackedFormat& f) {
  switch (type) {
    case GgmlType::Q4_0: f = {type, 32, 8, false, 0}; break;
    case GgmlType::Q8_0: f = {type, 32, 128, false, 0}; break;
    case GgmlType::Q4_K: f = {type, 32, 0, true, 0}; break;
    case GgmlType::Q6_K: f = {type, 16, 32, false, 0}; break;
    default: return false;
  }
  const size_t group_elements = 16 * size_t(f.lane_elements);
  f.groups = (cols + group_elements - 1) / group_elements;
  return true;
}

namespace {
struct GroupOut {
  uint8_t* bytes;
  float* scale;
  int32_t* init;
  float* dxs;
};

GroupOut group_at(const PackedFormat& f, uint8_t* dst, size_t g) {
  uint8_t* p = dst + g * f.act_group_bytes();
  const size_t nbytes = 16 * size_t(f.lane_elements);
  return {p, reinterpret_cast<float*>(p + nbytes), reinterpret_cast<int32_t*>(p + nbytes + 64),
          reinterpret_cast<float*>(p + nbytes + 128)};
}

// Lane `lane` of a group gets the B values at q; the rest of the record is set by the caller.
void put_lane(const PackedFormat& f, GroupOut& out, int lane, const int8_t* q) {
  for (size_t s = 0; s < f.steps(); ++s) std::memcpy(out.bytes + s * 64 + lane * 4, q + 4 * s, 4);
}
}  // namespace

void pack_activation_row(const PackedFormat& f, const float* x, size_t cols, uint8_t* tmp,
                         uint8_t* dst) {
  // Empty lanes of a last, partial group must contribute nothing.
  std::memset(dst, 0, f.groups * f.act_group_bytes());
  if (f.type == GgmlType::Q4_0 || f.type == GgmlType::Q8_0) {
    auto* blocks = reinterpret_cast<BlockQ8_0*>(tmp);
    quantize_q8_0(x, blocks, cols / kQK8_0);
    for (size_t b = 0; b < cols / kQK8_0; ++b) {
      GroupOut out = group_at(f, dst, b / 16);
      const int lane = int(b % 16);
      put_lane(f, out, lane, blocks[b].qs);
      int sum = 0;
      for (int8_t v : blocks[b].qs) sum += v;
      out.scale[lane] = fp16_to_fp32(blocks[b].d);
      out.init[lane] = -f.offset * sum;
    }
    return;
  }
  auto* blocks = reinterpret_cast<BlockQ8_K*>(tmp);
  quantize_q8_k(x, blocks, cols / kQK_K);
  for (size_t sb = 0; sb < cols / kQK_K; ++sb) {
    const BlockQ8_K& q = blocks[sb];
    if (f.type == GgmlType::Q4_K) {
      // Lanes are 32-element sub-blocks: two super-blocks per group.
      GroupOut out = group_at(f, dst, sb / 2);
      for (int sub = 0; sub < 8; ++sub) {
        const int lane = int(sb % 2) * 8 + sub;
        put_lane(f, out, lane, q.qs + 32 * sub);
        out.scale[lane] = q.d;
        out.dxs[lane] = q.d * float(q.bsums[2 * sub] + q.bsums[2 * sub + 1]);
      }
    } else {
      // Q6_K: lanes are 16-element sub-blocks, one super-block per group.
      GroupOut out = group_at(f, dst, sb);
      for (int lane = 0; lane < 16; ++lane) {
        put_lane(f, out, lane, q.qs + 16 * lane);
        out.scale[lane] = q.d;
        out.init[lane] = -f.offset * q.bsums[lane];
      }
    }
  }
}

}  // namespace modelswarm::kernels
