#include <cstring>

#include "kernels/decode_acts.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

void quantize_q8_pairs(const float* x, void* out, size_t cols) {
  const size_t nb = cols / kQK8_0;
  auto* dst = static_cast<uint8_t*>(out);
  for (size_t b = 0; b < nb; b += 2, dst += kQ8PairBytes) {
    BlockQ8_0 q[2] = {};
    quantize_q8_0(x + b * kQK8_0, q, b + 1 < nb ? 2 : 1);
    int8_t values[64];
    std::memcpy(values, q[0].qs, 16);
    std::memcpy(values + 16, q[1].qs, 16);
    std::memcpy(values + 32, q[0].qs + 16, 16);
    std::memcpy(values + 48, q[1].qs + 16, 16);
    int32_t init[16];
    float scale[16];
    for (int lane = 0; lane < 16; ++lane) {
      init[lane] = -8 * (values[4 * lane] + values[4 * lane + 1] + values[4 * lane + 2] +
                         values[4 * lane + 3]);
      scale[lane] = fp16_to_fp32(q[(lane / 4) % 2].d);
    }
    std::memcpy(dst, values, 64);
    std::memcpy(dst + 64, init, 64);
    std::memcpy(dst + 128, scale, 64);
  }
}

void quantize_q8_k_q4k_order(const float* x, void* dst, size_t cols) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  quantize_q8_k(x, blocks, cols / kQK_K);
  for (size_t b = 0; b < cols / kQK_K; ++b) {
    int8_t in[kQK_K];
    std::memcpy(in, blocks[b].qs, sizeof in);
    for (int c = 0; c < 4; ++c) {
      for (int j = 0; j < 4; ++j) {
        std::memcpy(blocks[b].qs + 64 * c + 16 * j, in + 64 * j + 8 * c, 8);
        std::memcpy(blocks[b].qs + 64 * c + 16 * j + 8, in + 64 * j + 32 + 8 * c, 8);
      }
    }
  }
}

}  // namespace modelswarm::kernels
