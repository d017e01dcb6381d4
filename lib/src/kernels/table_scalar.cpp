#include "kernels/kernel_table.hpp"

namespace modelswarm::kernels {

const KernelTable kScalarTable = {
    .isa = KernelIsa::scalar,
    .dot_q4_0_q8_0 = dot_q4_0_q8_0_scalar,
    .dot_q8_0_q8_0 = dot_q8_0_q8_0_scalar,
    .dot_q4_k_q8_k = dot_q4_k_q8_k_scalar,
    .dot_q6_k_q8_k = dot_q6_k_q8_k_scalar,
    .dot_f32_f32 = dot_f32_f32_scalar,
    .dot_f16_f32 = dot_f16_f32_scalar,
    .dot_bf16_f32 = dot_bf16_f32_scalar,
    .dot_f32 = dot_f32_scalar,
    .axpy_f32 = axpy_f32_scalar,
    .gemm = nullptr,
    .dot_q4_0_q8_pairs = nullptr,
    .dot_q4_k_q8_k_q4k_order = nullptr,
};

}  // namespace modelswarm::kernels
