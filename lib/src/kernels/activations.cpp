#include "kernels/activations.hpp"

#include <string>

#include "kernels/type_kernels.hpp"

namespace modelswarm::kernels {

DotPlan plan_dot(const KernelTable& t, GgmlType type, size_t cols) {
  const IsaKernels& k = dot_kernels(*type_kernels(type), t.isa);
  DotPlan p;
  p.dot = k.dot;
  p.act_type = ggml_type_traits(static_cast<uint32_t>(type))->dot_type;
  if (k.acts) {
    p.act_row_bytes = k.acts->row_bytes(cols);
    p.convert = k.acts->convert;
  } else {
    p.act_row_bytes = *ggml_row_bytes(p.act_type, cols);
    p.convert = type_kernels(p.act_type)->rows.from_float;
  }
  return p;
}

Status check_matrix(const MatrixView& w, const char* what) {
  if (!matmul_supported(w.type)) {
    return Error::unsupported(std::string(what) + ": weights of type " + ggml_type_name(w.type) +
                              " are not supported");
  }
  const auto bytes = ggml_row_bytes(w.type, w.cols);
  if (!bytes || w.cols == 0) {
    return Error::invalid_argument(std::string(what) + ": row length " + std::to_string(w.cols) +
                                   " is not a whole number of blocks");
  }
  if (w.rows > 1 && w.row_bytes < *bytes) {
    return Error::invalid_argument(std::string(what) + ": row stride " +
                                   std::to_string(w.row_bytes) + " is smaller than a row (" +
                                   std::to_string(*bytes) + " bytes)");
  }
  if (w.rows > 0 && w.data == nullptr)
    return Error::invalid_argument(std::string(what) + ": weight data is missing");
  // Float rows are read as floats / halves: they must sit on their element size (GGUF aligns
  // tensor data to 32 bytes). Block formats only need byte alignment.
  const auto t = ggml_type_traits(static_cast<uint32_t>(w.type));
  const size_t elem = t->block_elements == 1 ? t->block_bytes : 1;
  if (reinterpret_cast<uintptr_t>(w.data) % elem != 0 || (w.rows > 1 && w.row_bytes % elem != 0))
    return Error::invalid_argument(std::string(what) + ": " + std::to_string(elem) +
                                   "-byte elements are not aligned to their size");
  return Status::success();
}

uint8_t* scratch(std::vector<uint8_t>& buf, size_t bytes) {
  if (buf.size() < bytes) buf.resize(bytes);
  return buf.data();
}

}  // namespace modelswarm::kernels

namespace modelswarm {

bool matmul_supported(GgmlType type) {
  const kernels::TypeKernels* k = kernels::type_kernels(type);
  return k && k->isa[size_t(KernelIsa::scalar)].dot;
}

}  // namespace modelswarm
