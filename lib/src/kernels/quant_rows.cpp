// quantize_row / dequantize_row through the type table (type_kernels.cpp).
#include <string>

#include "kernels/type_kernels.hpp"

namespace modelswarm {

using namespace kernels;

namespace {
// The type's row conversions, once n is known to be a whole number of its blocks.
Result<RowConversion> conversion(GgmlType type, size_t n, const char* what) {
  const TypeKernels* k = type_kernels(type);
  if (!k || !k->rows.to_float || !k->rows.from_float) {
    return Error::unsupported(std::string(what) + ": tensor type " + ggml_type_name(type) +
                              " is not supported");
  }
  const size_t be = ggml_type_traits(static_cast<uint32_t>(type))->block_elements;
  if (n % be != 0) {
    return Error::invalid_argument(std::string(what) + ": row of " + std::to_string(n) +
                                   " elements is not a multiple of the block size " +
                                   std::to_string(be));
  }
  return k->rows;
}
}  // namespace

bool quant_supported(GgmlType type) {
  const TypeKernels* k = type_kernels(type);
  return k && k->rows.to_float && k->rows.from_float;
}

Status quantize_row(GgmlType type, const float* src, void* dst, size_t n) {
  MS_ASSIGN_OR_RETURN(RowConversion rows, conversion(type, n, "quantize_row"));
  rows.from_float(src, dst, n);
  return Status::success();
}

Status dequantize_row(GgmlType type, const void* src, float* dst, size_t n) {
  MS_ASSIGN_OR_RETURN(RowConversion rows, conversion(type, n, "dequantize_row"));
  rows.to_float(src, dst, n);
  return Status::success();
}

}  // namespace modelswarm
