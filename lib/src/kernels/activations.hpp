// Conversion of float activations into the format a weight type's dot product expects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/kernel_table.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm::kernels {

struct DotPlan {
  DotFn dot = nullptr;
  GgmlType act_type = GgmlType::F32;  // F32 (no conversion), Q8_0 or Q8_K
  size_t act_row_bytes = 0;           // bytes of one converted activation row
  // Makes such a row: act_type's quantizer, or the dot kernel's own layout of its values.
  void (*convert)(const float* x, void* dst, size_t cols) = nullptr;
};

// The dot kernel of `t` for weights of `type` (from the type table) and the activations it takes.
// REQUIRES: matmul_supported(type) and cols a whole number of the type's blocks.
DotPlan plan_dot(const KernelTable& t, GgmlType type, size_t cols);

// Validates a weight matrix for matvec / matmul; `what` prefixes messages.
Status check_matrix(const MatrixView& w, const char* what);

// Per-thread scratch that only grows, so repeated calls do not allocate.
uint8_t* scratch(std::vector<uint8_t>& buf, size_t bytes);

}  // namespace modelswarm::kernels
