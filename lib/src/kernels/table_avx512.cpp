#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels {

const KernelTable& avx512_table() {
  static const KernelTable t = {
      .isa = KernelIsa::avx512,
      .dot_f32 = dot_f32_avx512,
      .axpy_f32 = axpy_f32_avx512,
      .softmax_f32 = softmax_f32_avx2,
      .silu_mul_f32 = silu_mul_f32_avx2,
      .gelu_mul_f32 = gelu_mul_f32_avx2,
      .gemm = gemm_avx512,
  };
  return t;
}

}  // namespace modelswarm::kernels
