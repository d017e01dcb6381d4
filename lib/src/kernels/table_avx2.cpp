#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels {

const KernelTable& avx2_table() {
  static const KernelTable t = {
      .isa = KernelIsa::avx2,
      .dot_q4_0_q8_0 = dot_q4_0_q8_0_avx2,
      .dot_q8_0_q8_0 = dot_q8_0_q8_0_avx2,
      .dot_q4_k_q8_k = dot_q4_k_q8_k_avx2,
      .dot_q6_k_q8_k = dot_q6_k_q8_k_avx2,
      .dot_f32_f32 = dot_f32_f32_avx2,
      .dot_f16_f32 = dot_f16_f32_avx2,
      .dot_bf16_f32 = dot_bf16_f32_avx2,
      .dot_f32 = dot_f32_avx2,
      .axpy_f32 = axpy_f32_avx2,
      .gemm = gemm_avx2,
      .dot_q4_0_q8_pairs = dot_q4_0_q8_pairs_avx2,
      .dot_q4_k_q8_k_q4k_order = nullptr,
  };
  return t;
}

}  // namespace modelswarm::kernels
