// IQ4_NL: a 4-bit index into a fixed non-linear codebook per element, one scale per 32.
#include <cmath>

#include "kernels/q32_formats.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
// Index of the codebook entry nearest to v (the entries ascend).
int nearest_level(float v) {
  if (v <= kIQ4NLValues[0]) return 0;
  if (v >= kIQ4NLValues[15]) return 15;
  int lo = 0, hi = 15;  // kIQ4NLValues[lo] < v < kIQ4NLValues[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (v < kIQ4NLValues[mid] ? hi : lo) = mid;
  }
  return v - kIQ4NLValues[lo] < kIQ4NLValues[hi] - v ? lo : hi;
}

// Weighted least-squares scale for the levels chosen at inverse scale `id`; the score
// (Σwxl)²/Σwl² grows as the error falls.
float score_for(const float* x, const float* w, float id, float& scale) {
  double sxl = 0, sl2 = 0;
  for (size_t j = 0; j < kQK4_0; ++j) {
    const double l = kIQ4NLValues[nearest_level(x[j] * id)];
    sxl += w[j] * x[j] * l;
    sl2 += w[j] * l * l;
  }
  scale = sl2 > 0 ? float(sxl / sl2) : 0.f;
  return sl2 > 0 ? float(sxl * sxl / sl2) : 0.f;
}
}  // namespace

void quantize_iq4_nl(const float* x, BlockIQ4_NL* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK4_0) {
    const float max = signed_absmax(x, kQK4_0);
    float sum_x2 = 0;
    for (size_t j = 0; j < kQK4_0; ++j) sum_x2 += x[j] * x[j];
    float d = 0.f;
    if (std::fabs(max) > 1e-30f) {
      // Weights favour large elements, offset by the block's mean square so small ones count.
      float w[kQK4_0];
      for (size_t j = 0; j < kQK4_0; ++j) w[j] = sum_x2 / kQK4_0 + x[j] * x[j];
      // The extreme maps near the codebook's largest magnitude (-127); search around it.
      float best = -1.f;
      for (int step = -8; step <= 8; ++step) {
        float scale;
        const float score = score_for(x, w, (kIQ4NLValues[0] + float(step)) / max, scale);
        if (score > best) {
          best = score;
          d = scale;
        }
      }
    }
    y[b].d = fp32_to_fp16(d);
    // Levels against the scale as stored, so its fp16 rounding is taken into account.
    const float ds = fp16_to_fp32(y[b].d);
    const float id = ds != 0.f ? 1.f / ds : 0.f;
    uint8_t L[kQK4_0];
    for (size_t j = 0; j < kQK4_0; ++j) L[j] = uint8_t(nearest_level(x[j] * id));
    pack_q32_levels(L, y[b].qs, nullptr);
  }
}

void dequantize_iq4_nl(const BlockIQ4_NL* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK4_0) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < int(kQK4_0); ++j) y[j] = float(kIQ4NLValues[q32_nibble(x[b].qs, j)]) * d;
  }
}

}  // namespace modelswarm::kernels
