#include "infer/attention.hpp"

#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm::infer {

void attend_head_scalar(const AttendArgs& a) {
  float* qf = a.scratch + a.n_kv;
  for (uint32_t d = 0; d < a.head_dim; ++d) qf[d] = fp16_to_fp32(fp32_to_fp16(a.q[d]));
  float* s = a.scratch;
  for (uint32_t j = 0; j < a.n_kv; ++j) {
    const uint16_t* kj = a.k + j * a.stride;
    float acc = 0;
    for (uint32_t d = 0; d < a.head_dim; ++d) acc += qf[d] * fp16_to_fp32(kj[d]);
    s[j] = acc * a.scale;
  }
  softmax_f32(s, a.n_kv);
  for (uint32_t d = 0; d < a.head_dim; ++d) a.out[d] = 0;
  for (uint32_t j = 0; j < a.n_kv; ++j) {
    const float p = fp16_to_fp32(fp32_to_fp16(s[j]));
    const uint16_t* vj = a.v + j * a.stride;
    for (uint32_t d = 0; d < a.head_dim; ++d) a.out[d] += p * fp16_to_fp32(vj[d]);
  }
}

void attend_head(const AttendArgs& a) {
  static const bool has_avx2 = kernel_isa_supported(KernelIsa::avx2);
  if (has_avx2 && kernel_isa() != KernelIsa::scalar && a.head_dim % 8 == 0) attend_head_avx2(a);
  else attend_head_scalar(a);
}

void store_f16(const float* x, uint16_t* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

}  // namespace modelswarm::infer
