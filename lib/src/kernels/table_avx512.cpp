#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels {

const KernelTable& avx512_table() {
  static const KernelTable t = {
      .isa = KernelIsa::avx512,
      .dot_q4_0_q8_0 = dot_q4_0_q8_0_avx512,
      .dot_q8_0_q8_0 = dot_q8_0_q8_0_avx512,
      .dot_q4_k_q8_k = dot_q4_k_q8_k_avx512,
      .dot_q6_k_q8_k = dot_q6_k_q8_k_avx512,
      .dot_f32_f32 = dot_f32_f32_avx512,
      .dot_f16_f32 = dot_f16_f32_avx512,
      .dot_bf16_f32 = dot_bf16_f32_avx512,
      .dot_f32 = dot_f32_avx512,
      .axpy_f32 = axpy_f32_avx512,
      .gemm = gemm_avx512,
      .dot_q4_0_q8_pairs = dot_q4_0_q8_pairs_avx512,
      .dot_q4_k_q8_k_q4k_order = dot_q4_k_q8_k_q4k_order_avx512,
  };
  return t;
}

}  // namespace modelswarm::kernels
