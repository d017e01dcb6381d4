// Rows of the float formats (F32, F16, BF16) to and from float. Elements are moved with memcpy:
// the HF converter reads rows at any byte offset of a memory-mapped safetensors file.
#include <cstring>

#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
template <uint16_t (*Encode)(float)>
void encode_halves(const float* x, void* y, size_t n) {
  auto* out = static_cast<uint8_t*>(y);
  for (size_t i = 0; i < n; ++i) {
    const uint16_t h = Encode(x[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

template <float (*Decode)(uint16_t)>
void decode_halves(const void* x, float* y, size_t n) {
  const auto* in = static_cast<const uint8_t*>(x);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    y[i] = Decode(h);
  }
}
}  // namespace

void quantize_f32(const float* x, void* y, size_t n) { std::memcpy(y, x, n * sizeof(float)); }
void dequantize_f32(const void* x, float* y, size_t n) { std::memcpy(y, x, n * sizeof(float)); }
void quantize_f16(const float* x, void* y, size_t n) { encode_halves<fp32_to_fp16>(x, y, n); }
void dequantize_f16(const void* x, float* y, size_t n) { decode_halves<fp16_to_fp32>(x, y, n); }
void quantize_bf16(const float* x, void* y, size_t n) { encode_halves<fp32_to_bf16>(x, y, n); }
void dequantize_bf16(const void* x, float* y, size_t n) { decode_halves<bf16_to_fp32>(x, y, n); }

}  // namespace modelswarm::kernels
