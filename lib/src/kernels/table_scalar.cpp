#include "kernels/kernel_table.hpp"

namespace modelswarm::kernels {

const KernelTable kScalarTable = {
    .isa = KernelIsa::scalar,
    .dot_f32 = dot_f32_scalar,
    .axpy_f32 = axpy_f32_scalar,
    .softmax_f32 = softmax_f32_scalar,
    .silu_mul_f32 = silu_mul_f32_scalar,
    .gelu_mul_f32 = gelu_mul_f32_scalar,
    .gemm = nullptr,
};

}  // namespace modelswarm::kernels
