// Reference dot products of Q4_1, Q5_0, Q5_1 and IQ4_NL weights with Q8_0 activations: an exact
// integer sum per block, scaled; formats with a min add m·dx·Σx.
#include "kernels/kernel_table.hpp"
#include "kernels/q32_formats.hpp"

namespace modelswarm::kernels {

namespace {
struct Q4_1 {
  using Block = BlockQ4_1;
  static int level(const Block& b, uint32_t, int j) { return q32_nibble(b.qs, j); }
  static float min(const Block& b) { return fp16_to_fp32(b.m); }
};
struct Q5_0 {
  using Block = BlockQ5_0;
  static int level(const Block& b, uint32_t qh, int j) { return q5_level(b.qs, qh, j) - 16; }
  static float min(const Block&) { return 0.f; }
};
struct Q5_1 {
  using Block = BlockQ5_1;
  static int level(const Block& b, uint32_t qh, int j) { return q5_level(b.qs, qh, j); }
  static float min(const Block& b) { return fp16_to_fp32(b.m); }
};
struct IQ4_NL {
  using Block = BlockIQ4_NL;
  static int level(const Block& b, uint32_t, int j) { return kIQ4NLValues[q32_nibble(b.qs, j)]; }
  static float min(const Block&) { return 0.f; }
};

template <class B>
uint32_t high_bits(const B& b) {
  if constexpr (requires { b.qh; }) {
    return q5_high_bits(b.qh);
  } else {
    return 0;
  }
}

template <class F>
float dot(size_t k, const void* vw, const void* vx) {
  const auto* w = static_cast<const typename F::Block*>(vw);
  const auto* x = static_cast<const BlockQ8_0*>(vx);
  float sum = 0;
  for (size_t b = 0; b < k / kQK8_0; ++b) {
    const uint32_t qh = high_bits(w[b]);
    int sumi = 0, sumx = 0;
    for (int j = 0; j < int(kQK8_0); ++j) {
      sumi += F::level(w[b], qh, j) * x[b].qs[j];
      sumx += x[b].qs[j];
    }
    const float dx = fp16_to_fp32(x[b].d);
    sum += float(sumi) * (fp16_to_fp32(w[b].d) * dx) + F::min(w[b]) * dx * float(sumx);
  }
  return sum;
}
}  // namespace

float dot_q4_1_q8_0_scalar(size_t k, const void* w, const void* x) { return dot<Q4_1>(k, w, x); }
float dot_q5_0_q8_0_scalar(size_t k, const void* w, const void* x) { return dot<Q5_0>(k, w, x); }
float dot_q5_1_q8_0_scalar(size_t k, const void* w, const void* x) { return dot<Q5_1>(k, w, x); }
float dot_iq4_nl_q8_0_scalar(size_t k, const void* w, const void* x) {
  return dot<IQ4_NL>(k, w, x);
}

}  // namespace modelswarm::kernels
