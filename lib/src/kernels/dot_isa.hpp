// Declarations of the SIMD kernels, one group per ISA, and the target attributes they use.
// Every kernel has the signature of its scalar reference in kernel_table.hpp.
#pragma once

#include "kernels/kernel_table.hpp"

#define MS_TARGET_AVX2 gnu::target("avx2,fma,f16c")
#define MS_TARGET_AVX512 gnu::target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")

namespace modelswarm::kernels {

float dot_q8_0_q8_0_avx2(size_t k, const void* w, const void* x);
float dot_q4_0_q8_pairs_avx2(size_t k, const void* w, const void* x);
float dot_q4_k_q8_k_avx2(size_t k, const void* w, const void* x);
float dot_q6_k_q8_k_avx2(size_t k, const void* w, const void* x);
float dot_f32_f32_avx2(size_t k, const void* w, const void* x);
float dot_f16_f32_avx2(size_t k, const void* w, const void* x);
float dot_bf16_f32_avx2(size_t k, const void* w, const void* x);
float dot_f32_avx2(const float* a, const float* b, size_t n);
void axpy_f32_avx2(float a, const float* x, float* y, size_t n);
void softmax_f32_avx2(float* x, size_t n);
void silu_mul_f32_avx2(const float* gate, const float* up, float* out, size_t n);
void gelu_mul_f32_avx2(const float* gate, const float* up, float* out, size_t n);
void gemm_avx2(const PackedFormat& f, PackWeightsFn pack, const MatrixView& w, const float* x,
               size_t m, size_t x_stride, float* y, size_t y_stride, ThreadPool* pool);
// Weight packers of the AVX2 GEMM (word transposes); the same bytes as the portable ones.
void pack_weights_q4_0_avx2(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q4_k_avx2(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q6_k_avx2(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);

float dot_q8_0_q8_0_avx512(size_t k, const void* w, const void* x);
float dot_q4_0_q8_pairs_avx512(size_t k, const void* w, const void* x);
float dot_q4_k_q8_k_q4k_order_avx512(size_t k, const void* w, const void* x);
float dot_q6_k_q8_k_avx512(size_t k, const void* w, const void* x);
float dot_f32_f32_avx512(size_t k, const void* w, const void* x);
float dot_f16_f32_avx512(size_t k, const void* w, const void* x);
float dot_bf16_f32_avx512(size_t k, const void* w, const void* x);
float dot_f32_avx512(const float* a, const float* b, size_t n);
void axpy_f32_avx512(float a, const float* x, float* y, size_t n);
void gemm_avx512(const PackedFormat& f, PackWeightsFn pack, const MatrixView& w, const float* x,
                 size_t m, size_t x_stride, float* y, size_t y_stride, ThreadPool* pool);
// Weight packers of the AVX-512 GEMM (gathers); the same bytes as the portable ones.
void pack_weights_q4_0_avx512(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q8_0_avx512(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q4_k_avx512(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q6_k_avx512(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);

}  // namespace modelswarm::kernels
