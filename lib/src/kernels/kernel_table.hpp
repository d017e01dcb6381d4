// The per-ISA function table behind kernels.hpp. Each ISA fills one table in its own files
// (dot_<family>_<isa>.cpp); dispatch.cpp picks the active one once at start-up.
#pragma once

#include <cstddef>
#include <cstdint>

#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm::kernels {

// Dot product of one weight row of k elements (GGUF blocks) with an activation row already in
// the weight type's activation format (Q8_0 blocks, Q8_K blocks, or floats).
using DotFn = float (*)(size_t k, const void* w, const void* x);
using DotF32Fn = float (*)(const float* a, const float* b, size_t n);
using AxpyFn = void (*)(float a, const float* x, float* y, size_t n);

// Prefill matrix multiply on repacked int8 tiles (see gemm_packed.hpp); returns false, having
// done nothing, for weight types it does not handle. Arguments as for modelswarm::matmul.
using GemmFn = bool (*)(const MatrixView& w, const float* x, size_t m, size_t x_stride, float* y,
                        size_t y_stride, ThreadPool* pool);

struct KernelTable {
  KernelIsa isa;
  DotFn dot_q4_0_q8_0;
  DotFn dot_q8_0_q8_0;
  DotFn dot_q4_k_q8_k;
  DotFn dot_q6_k_q8_k;
  DotFn dot_f32_f32;   // k floats · k floats
  DotFn dot_f16_f32;
  DotFn dot_bf16_f32;
  DotF32Fn dot_f32;
  AxpyFn axpy_f32;
  GemmFn gemm;  // nullptr: matmul always uses row dots
  // Optional decode kernels on the activation layouts of decode_acts.hpp (nullptr: the plain
  // Q8_0 / Q8_K ones above are used).
  DotFn dot_q4_0_q8_pairs;
  DotFn dot_q4_k_q8_k_q4k_order;
};

// Filled by each ISA's files; entries an ISA lacks fall back to the scalar ones.
extern const KernelTable kScalarTable;
const KernelTable& avx2_table();
const KernelTable& avx512_table();

// The table selected by set_kernel_isa (default: the best supported).
const KernelTable& active_table();
const KernelTable& table_for(KernelIsa isa);

// Scalar references, also used by the SIMD tables for kernels they do not specialise.
float dot_q4_0_q8_0_scalar(size_t k, const void* w, const void* x);
float dot_q8_0_q8_0_scalar(size_t k, const void* w, const void* x);
float dot_q4_k_q8_k_scalar(size_t k, const void* w, const void* x);
float dot_q6_k_q8_k_scalar(size_t k, const void* w, const void* x);
float dot_f32_f32_scalar(size_t k, const void* w, const void* x);
float dot_f16_f32_scalar(size_t k, const void* w, const void* x);
float dot_bf16_f32_scalar(size_t k, const void* w, const void* x);
float dot_f32_scalar(const float* a, const float* b, size_t n);
void axpy_f32_scalar(float a, const float* x, float* y, size_t n);

}  // namespace modelswarm::kernels
