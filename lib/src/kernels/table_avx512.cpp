#include "kernels/dot_isa.hpp"

namespace modelswarm::kernels {

const KernelTable& avx512_table() {
  static const KernelTable t = {
      .isa = KernelIsa::avx512,
      .dot_f32 = dot_f32_avx512,
      .axpy_f32 = axpy_f32_avx512,
      .gemm = gemm_avx512,
  };
  return t;
}

}  // namespace modelswarm::kernels
