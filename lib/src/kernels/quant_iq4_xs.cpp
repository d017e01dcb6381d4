// IQ4_XS rows: 8 sub-blocks of 32 elements on the IQ4_NL codebook, signed 6-bit sub-block scales.
//
// A plain weighted least-squares fit, not llama.cpp's importance-matrix search: per sub-block,
// scales around those that put the largest element on either end of the codebook each assign
// every element its nearest entry, are refitted by least squares over that assignment, and the
// one with the smallest weighted error is kept.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "modelswarm/quant.hpp"
#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
uint8_t nearest_entry(float v) {
  int best = 0;
  float best_d = std::fabs(v - kIQ4NLValues[0]);
  for (int i = 1; i < 16; ++i) {
    const float dist = std::fabs(v - kIQ4NLValues[i]);
    if (dist < best_d) {
      best_d = dist;
      best = i;
    }
  }
  return uint8_t(best);
}

// The scale of one 32-element sub-block (0 when all zero), and its entries in L.
float fit_codebook_scale(const float* x, const float* w, uint8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < 32; ++i)
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  if (amax < 1e-30f) {
    std::fill(L, L + 32, nearest_entry(0.f));
    return 0.f;
  }
  float best_err = INFINITY, best_scale = 0;
  uint8_t cand[32];
  for (float end : {float(kIQ4NLValues[0]), float(kIQ4NLValues[15])}) {
    for (int step = -8; step <= 8; ++step) {
      const float iscale = end * (1.f + 0.02f * step) / max;
      double sxq = 0, sqq = 0;
      for (int i = 0; i < 32; ++i) {
        cand[i] = nearest_entry(iscale * x[i]);
        const float q = kIQ4NLValues[cand[i]];
        sxq += w[i] * x[i] * q;
        sqq += w[i] * q * q;
      }
      const float scale = sqq > 0 ? float(sxq / sqq) : 0.f;
      float err = 0;
      for (int i = 0; i < 32; ++i) {
        const float diff = x[i] - scale * kIQ4NLValues[cand[i]];
        err += w[i] * diff * diff;
      }
      if (err < best_err) {
        best_err = err;
        best_scale = scale;
        std::copy(cand, cand + 32, L);
      }
    }
  }
  return best_scale;
}
}  // namespace

void quantize_iq4_xs(const float* x, BlockIQ4_XS* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK_K) {
    std::memset(&y[b], 0, sizeof(BlockIQ4_XS));
    float sum_x2 = 0;
    for (size_t j = 0; j < kQK_K; ++j) sum_x2 += x[j] * x[j];
    const float av_x = std::sqrt(sum_x2 / kQK_K);
    uint8_t L[kQK_K];
    float scales[8], max_scale = 0, w[32];
    for (int s = 0; s < 8; ++s) {
      for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(x[32 * s + l]);
      scales[s] = fit_codebook_scale(x + 32 * s, w, L + 32 * s);
      if (std::fabs(scales[s]) > std::fabs(max_scale)) max_scale = scales[s];
    }
    if (std::fabs(max_scale) >= 1e-30f) {
      // The largest scale maps to code -32 (the codes' longer side).
      const float iscale = -32.f / max_scale;
      y[b].d = fp32_to_fp16(1.f / iscale);
      const float d = fp16_to_fp32(y[b].d);
      for (int s = 0; s < 8; ++s) {
        const int code = std::clamp(nearest_int(iscale * scales[s]), -32, 31) + 32;
        y[b].scales_l[s / 2] |= uint8_t((code & 0x0f) << (4 * (s % 2)));
        y[b].scales_h |= uint16_t((code >> 4) << (2 * s));
        const float ds = d * float(code - 32);
        for (int l = 0; l < 32; ++l)
          L[32 * s + l] = nearest_entry(ds == 0.f ? 0.f : x[32 * s + l] / ds);
      }
    }
    for (int e = 0; e < int(kQK_K); ++e)
      y[b].qs[16 * (e / 32) + e % 16] |= uint8_t(L[e] << (4 * ((e % 32) / 16)));
  }
}

void dequantize_iq4_xs(const BlockIQ4_XS* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK_K) {
    const float d = fp16_to_fp32(x[b].d);
    for (int e = 0; e < int(kQK_K); ++e) {
      const int q = (x[b].qs[16 * (e / 32) + e % 16] >> (4 * ((e % 32) / 16))) & 0x0f;
      y[e] = d * float(iq4xs_scale(x[b], e / 32) - 32) * float(kIQ4NLValues[q]);
    }
  }
}

}  // namespace modelswarm::kernels
