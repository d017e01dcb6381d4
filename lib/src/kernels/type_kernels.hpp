// The kernels' half of the type table: for each GGML type the engine runs or converts, its row
// conversions, its dot kernel per ISA with the activation layout that kernel takes, and its
// place in the packed prefill GEMM. Indexed by the same enum as the metadata half
// (util/ggml_type_table.hpp: sizes, names, flags, activation type), which type_kernels.cpp
// checks it against at compile time.
#pragma once

#include <array>
#include <cstddef>

#include "kernels/decode_acts.hpp"
#include "kernels/gemm_packed.hpp"
#include "kernels/kernel_table.hpp"

namespace modelswarm::kernels {

// n elements, a whole number of the type's blocks.
using ToFloatFn = void (*)(const void* src, float* dst, size_t n);
using FromFloatFn = void (*)(const float* src, void* dst, size_t n);

struct RowConversion {
  ToFloatFn to_float = nullptr;      // dequantize_row
  FromFloatFn from_float = nullptr;  // quantize_row
};

// One ISA's kernels for a weight type.
struct IsaKernels {
  DotFn dot = nullptr;              // nullptr: this ISA uses the scalar entry
  const ActLayout* acts = nullptr;  // what `dot` takes; nullptr: rows of the type's dot_type
  PackWeightsFn gemm_pack = nullptr;  // packer for this ISA's GEMM; nullptr: matmul uses dots
};

struct TypeKernels {
  GgmlType type = GgmlType::F32;
  RowConversion rows;
  GemmLanes lanes;  // lane_elements 0: no packed GEMM
  std::array<IsaKernels, kKernelIsaCount> isa{};  // indexed by KernelIsa; [scalar] is the reference
};

// The row of `type`, or nullptr when the kernels know nothing of it.
const TypeKernels* type_kernels(GgmlType type);

// The kernels `isa` uses for the row's dot product: its own, or the scalar ones.
inline const IsaKernels& dot_kernels(const TypeKernels& row, KernelIsa isa) {
  const IsaKernels& k = row.isa[size_t(isa)];
  return k.dot ? k : row.isa[size_t(KernelIsa::scalar)];
}

}  // namespace modelswarm::kernels
