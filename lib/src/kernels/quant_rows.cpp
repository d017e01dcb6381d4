#include <cstring>
#include <string>

#include "kernels/quant_internal.hpp"

namespace modelswarm {

using namespace kernels;

namespace {
size_t block_elements(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16: return 1;
    case GgmlType::Q4_0:
    case GgmlType::Q8_0: return 32;
    case GgmlType::Q4_K:
    case GgmlType::Q6_K:
    case GgmlType::Q8_K: return kQK_K;
    default: return 0;
  }
}

Status check(GgmlType type, size_t n, const char* what) {
  const size_t be = block_elements(type);
  if (be == 0) {
    auto t = ggml_type_traits(static_cast<uint32_t>(type));
    return Error::unsupported(std::string(what) + ": tensor type " +
                              (t ? std::string(t->name) : std::to_string(uint32_t(type))) +
                              " is not supported");
  }
  if (n % be != 0) {
    return Error::invalid_argument(std::string(what) + ": row of " + std::to_string(n) +
                                   " elements is not a multiple of the block size " +
                                   std::to_string(be));
  }
  return Status::success();
}
}  // namespace

bool quant_supported(GgmlType type) { return block_elements(type) != 0; }

Status quantize_row(GgmlType type, const float* src, void* dst, size_t n) {
  MS_TRY(check(type, n, "quantize_row"));
  const size_t nb = n / block_elements(type);
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, n * sizeof(float)); break;
    case GgmlType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = fp32_to_fp16(src[i]);
      break;
    }
    case GgmlType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
      break;
    }
    case GgmlType::Q4_0: quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), nb); break;
    case GgmlType::Q8_0: quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), nb); break;
    case GgmlType::Q4_K: quantize_q4_k(src, static_cast<BlockQ4_K*>(dst), nb); break;
    case GgmlType::Q6_K: quantize_q6_k(src, static_cast<BlockQ6_K*>(dst), nb); break;
    case GgmlType::Q8_K: quantize_q8_k(src, static_cast<BlockQ8_K*>(dst), nb); break;
    default: break;
  }
  return Status::success();
}

Status dequantize_row(GgmlType type, const void* src, float* dst, size_t n) {
  MS_TRY(check(type, n, "dequantize_row"));
  const size_t nb = n / block_elements(type);
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, n * sizeof(float)); break;
    case GgmlType::F16: {
      auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(s[i]);
      break;
    }
    case GgmlType::BF16: {
      auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
      break;
    }
    case GgmlType::Q4_0: dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, nb); break;
    case GgmlType::Q8_0: dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb); break;
    case GgmlType::Q4_K: dequantize_q4_k(static_cast<const BlockQ4_K*>(src), dst, nb); break;
    case GgmlType::Q6_K: dequantize_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb); break;
    case GgmlType::Q8_K: dequantize_q8_k(static_cast<const BlockQ8_K*>(src), dst, nb); break;
    default: break;
  }
  return Status::success();
}

}  // namespace modelswarm
