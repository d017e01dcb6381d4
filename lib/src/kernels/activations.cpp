#include "kernels/activations.hpp"

#include <cstring>
#include <string>

#include "kernels/decode_acts.hpp"

namespace modelswarm::kernels {

DotPlan plan_dot(const KernelTable& t, GgmlType type, size_t cols) {
  DotPlan p;
  switch (type) {
    case GgmlType::Q4_0:
      if (t.dot_q4_0_q8_pairs) {
        return {t.dot_q4_0_q8_pairs, GgmlType::Q8_0, q8_pairs_row_bytes(cols), quantize_q8_pairs};
      }
      p = {t.dot_q4_0_q8_0, GgmlType::Q8_0, 0};
      break;
    case GgmlType::Q8_0: p = {t.dot_q8_0_q8_0, GgmlType::Q8_0, 0}; break;
    case GgmlType::Q4_K:
      if (t.dot_q4_k_q8_k_q4k_order) {
        return {t.dot_q4_k_q8_k_q4k_order, GgmlType::Q8_K, *ggml_row_bytes(GgmlType::Q8_K, cols),
                quantize_q8_k_q4k_order};
      }
      p = {t.dot_q4_k_q8_k, GgmlType::Q8_K, 0};
      break;
    case GgmlType::Q6_K: p = {t.dot_q6_k_q8_k, GgmlType::Q8_K, 0}; break;
    case GgmlType::F16: p = {t.dot_f16_f32, GgmlType::F32, 0}; break;
    case GgmlType::BF16: p = {t.dot_bf16_f32, GgmlType::F32, 0}; break;
    default: p = {t.dot_f32_f32, GgmlType::F32, 0}; break;
  }
  p.act_row_bytes = *ggml_row_bytes(p.act_type, cols);
  return p;
}

void convert_activation(const DotPlan& plan, const float* x, size_t cols, uint8_t* dst) {
  if (plan.convert) return plan.convert(x, cols, dst);
  // Cannot fail: the plan was made for this row length.
  (void)quantize_row(plan.act_type, x, dst, cols);
}

Status check_matrix(const MatrixView& w, const char* what) {
  if (!matmul_supported(w.type)) {
    auto t = ggml_type_traits(static_cast<uint32_t>(w.type));
    return Error::unsupported(std::string(what) + ": weights of type " +
                              (t ? std::string(t->name) : std::to_string(uint32_t(w.type))) +
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
  const size_t elem = w.type == GgmlType::F32                                ? 4
                      : (w.type == GgmlType::F16 || w.type == GgmlType::BF16) ? 2
                                                                              : 1;
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
  switch (type) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
    case GgmlType::Q4_0:
    case GgmlType::Q8_0:
    case GgmlType::Q4_K:
    case GgmlType::Q6_K: return true;
    default: return false;
  }
}

}  // namespace modelswarm
