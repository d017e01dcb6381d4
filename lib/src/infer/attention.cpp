#include "infer/attention.hpp"

#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm::infer {

size_t attend_scratch_floats(uint32_t n_q, uint32_t n_kv, uint32_t head_dim) {
  return size_t(n_q) * (size_t(n_kv) + head_dim);
}

void attend_scalar(const AttendArgs& a) {
  float* qf = a.scratch + a.n_kv;
  float* s = a.scratch;
  for (uint32_t h = 0; h < a.n_q; ++h) {
    const float* q = a.q + size_t(h) * a.head_dim;
    float* out = a.out + size_t(h) * a.head_dim;
    for (uint32_t d = 0; d < a.head_dim; ++d) qf[d] = fp16_to_fp32(fp32_to_fp16(q[d]));
    for (uint32_t j = 0; j < a.n_kv; ++j) {
      const uint16_t* kj = a.k + j * a.stride;
      float acc = 0;
      for (uint32_t d = 0; d < a.head_dim; ++d) acc += qf[d] * fp16_to_fp32(kj[d]);
      s[j] = acc * a.scale;
    }
    softmax_f32(s, a.n_kv);
    for (uint32_t d = 0; d < a.head_dim; ++d) out[d] = 0;
    for (uint32_t j = 0; j < a.n_kv; ++j) {
      const float p = fp16_to_fp32(fp32_to_fp16(s[j]));
      const uint16_t* vj = a.v + j * a.stride;
      for (uint32_t d = 0; d < a.head_dim; ++d) out[d] += p * fp16_to_fp32(vj[d]);
    }
  }
}

void attend(const AttendArgs& a) {
  static const bool has_avx2 = kernel_isa_supported(KernelIsa::avx2);
  if (has_avx2 && kernel_isa() != KernelIsa::scalar && a.head_dim % 8 == 0) attend_avx2(a);
  else attend_scalar(a);
}

void store_f16(const float* x, uint16_t* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

}  // namespace modelswarm::infer
