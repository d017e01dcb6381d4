// The per-ISA function table behind kernels.hpp: what does not depend on the weight type. Each
// ISA fills one table (table_<isa>.cpp); dispatch.cpp picks the active one once at start-up.
// What does depend on the weight type (dot kernels, GEMM packers) is in type_kernels.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/gemm_packed.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm::kernels {

// KernelIsa values index per-ISA columns: scalar 0, avx2 1, avx512 2.
inline constexpr size_t kKernelIsaCount = 3;

// Dot product of one weight row of k elements (GGUF blocks) with an activation row already in
// the layout its kernel takes (see type_kernels.hpp).
using DotFn = float (*)(size_t k, const void* w, const void* x);
using DotF32Fn = float (*)(const float* a, const float* b, size_t n);
using AxpyFn = void (*)(float a, const float* x, float* y, size_t n);
using SoftmaxFn = void (*)(float* x, size_t n);
using SiluMulFn = void (*)(const float* gate, const float* up, float* out, size_t n);

// Prefill matrix multiply on repacked int8 tiles (gemm_packed.hpp), `pack` being the weight
// type's packer for this ISA and f its packed format. Arguments otherwise as for
// modelswarm::matmul.
using GemmFn = void (*)(const PackedFormat& f, PackWeightsFn pack, const MatrixView& w,
                        const float* x, size_t m, size_t x_stride, float* y, size_t y_stride,
                        ThreadPool* pool);

struct KernelTable {
  KernelIsa isa;
  DotF32Fn dot_f32;
  AxpyFn axpy_f32;
  SoftmaxFn softmax_f32;
  SiluMulFn silu_mul_f32;
  SiluMulFn gelu_mul_f32;  // same signature
  GemmFn gemm;  // nullptr: matmul always uses row dots
};

extern const KernelTable kScalarTable;
const KernelTable& avx2_table();
const KernelTable& avx512_table();

// The table selected by set_kernel_isa (default: the best supported).
const KernelTable& active_table();
const KernelTable& table_for(KernelIsa isa);

// Scalar references; every ISA's kernels compute the same.
float dot_q4_0_q8_0_scalar(size_t k, const void* w, const void* x);
float dot_q8_0_q8_0_scalar(size_t k, const void* w, const void* x);
float dot_q4_k_q8_k_scalar(size_t k, const void* w, const void* x);
float dot_q6_k_q8_k_scalar(size_t k, const void* w, const void* x);
float dot_f32_f32_scalar(size_t k, const void* w, const void* x);
float dot_f16_f32_scalar(size_t k, const void* w, const void* x);
float dot_bf16_f32_scalar(size_t k, const void* w, const void* x);
float dot_f32_scalar(const float* a, const float* b, size_t n);
void axpy_f32_scalar(float a, const float* x, float* y, size_t n);
void softmax_f32_scalar(float* x, size_t n);
void silu_mul_f32_scalar(const float* gate, const float* up, float* out, size_t n);
void gelu_mul_f32_scalar(const float* gate, const float* up, float* out, size_t n);

}  // namespace modelswarm::kernels
