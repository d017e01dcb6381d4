#include <cstring>

#include "kernels/gemm_packed.hpp"
#include "kernels/quant_internal.hpp"
#include "kernels/type_kernels.hpp"

namespace modelswarm::kernels {

PackedFormat packed_format(GgmlType type, size_t cols) {
  const GemmLanes& l = type_kernels(type)->lanes;
  const size_t group_elements = 16 * size_t(l.lane_elements);
  return {type,
          l.lane_elements,
          l.offset,
          l.has_min,
          l.max_level,
          (cols + group_elements - 1) / group_elements,
          ggml_type_traits(uint32_t(type))->dot_type};
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

// Lane `lane` of a group gets the B values at q, their scale dx and the sum of the values:
// the offset correction and the min term's dx·Σx come from it.
void put_lane(const PackedFormat& f, GroupOut& out, int lane, const int8_t* q, float dx, int sum) {
  for (size_t s = 0; s < f.steps(); ++s) std::memcpy(out.bytes + s * 64 + lane * 4, q + 4 * s, 4);
  out.scale[lane] = dx;
  out.init[lane] = -f.offset * sum;
  out.dxs[lane] = dx * float(sum);
}
}  // namespace

void pack_activation_row(const PackedFormat& f, const float* x, size_t cols, uint8_t* tmp,
                         uint8_t* dst) {
  // Empty lanes of a last, partial group must contribute nothing.
  std::memset(dst, 0, f.groups * f.act_group_bytes());
  if (f.act_type == GgmlType::Q8_0) {
    auto* blocks = reinterpret_cast<BlockQ8_0*>(tmp);
    quantize_q8_0(x, blocks, cols / kQK8_0);
    for (size_t b = 0; b < cols / kQK8_0; ++b) {
      GroupOut out = group_at(f, dst, b / 16);
      const int lane = int(b % 16);
      int sum = 0;
      for (int8_t v : blocks[b].qs) sum += v;
      put_lane(f, out, lane, blocks[b].qs, fp16_to_fp32(blocks[b].d), sum);
    }
    return;
  }
  // Q8_K: lanes are sub-blocks of B elements, so a group holds 16·B/256 super-blocks (B = 16
  // or 32), and a lane's sum of values is that of its 16-element sums.
  auto* blocks = reinterpret_cast<BlockQ8_K*>(tmp);
  quantize_q8_k(x, blocks, cols / kQK_K);
  const size_t lane_elements = size_t(f.lane_elements), lanes = kQK_K / lane_elements;
  for (size_t sb = 0; sb < cols / kQK_K; ++sb) {
    const BlockQ8_K& q = blocks[sb];
    GroupOut out = group_at(f, dst, sb * lanes / 16);
    for (size_t sub = 0; sub < lanes; ++sub) {
      const int lane = int(sb * lanes % 16 + sub);
      int sum = 0;
      for (size_t j = sub * lane_elements / 16; j < (sub + 1) * lane_elements / 16; ++j)
        sum += q.bsums[j];
      put_lane(f, out, lane, q.qs + lane_elements * sub, q.d, sum);
    }
  }
}

}  // namespace modelswarm::kernels
