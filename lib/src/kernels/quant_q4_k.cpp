#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
void pack_scales(uint8_t* s, const uint8_t* ls, const uint8_t* lm) {
  std::memset(s, 0, 12);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] = ls[j];
      s[j + 4] = lm[j];
    } else {
      s[j + 4] = uint8_t((ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4));
      s[j - 4] |= uint8_t((ls[j] >> 4) << 6);
      s[j] |= uint8_t((lm[j] >> 4) << 6);
    }
  }
}
}  // namespace

void quantize_q4_k(const float* x, BlockQ4_K* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK_K) {
    // Weights favour large elements, offset by the block's RMS so small ones still count.
    float sum_x2 = 0;
    for (size_t j = 0; j < kQK_K; ++j) sum_x2 += x[j] * x[j];
    const float av_x = std::sqrt(sum_x2 / kQK_K);
    float w[32], scales[8], mins[8];
    uint8_t L[kQK_K];
    float max_scale = 0, max_min = 0;
    for (int s = 0; s < 8; ++s) {
      for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(x[32 * s + l]);
      scales[s] = fit_scale_min(32, 15, x + 32 * s, w, L + 32 * s, mins[s]);
      max_scale = std::max(max_scale, scales[s]);
      max_min = std::max(max_min, mins[s]);
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t ls[8], lm[8];
    for (int s = 0; s < 8; ++s) {
      ls[s] = uint8_t(std::clamp(nearest_int(inv_scale * scales[s]), 0, 63));
      lm[s] = uint8_t(std::clamp(nearest_int(inv_min * mins[s]), 0, 63));
    }
    pack_scales(y[b].scales, ls, lm);
    y[b].d = fp32_to_fp16(max_scale / 63.f);
    y[b].dmin = fp32_to_fp16(max_min / 63.f);
    // Re-quantize against the scales as stored, so rounding of d, dmin and the 6-bit codes
    // is taken into account.
    const float d = fp16_to_fp32(y[b].d), dmin = fp16_to_fp32(y[b].dmin);
    for (int s = 0; s < 8; ++s) {
      const float ds = d * ls[s];
      const float dm = dmin * lm[s];
      for (int l = 0; l < 32; ++l)
        L[32 * s + l] =
            ds == 0.f ? 0 : uint8_t(std::clamp(nearest_int((x[32 * s + l] + dm) / ds), 0, 15));
    }
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        y[b].qs[32 * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
  }
}

void dequantize_q4_k(const BlockQ4_K* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d), dmin = fp16_to_fp32(x[b].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc0, m0, sc1, m1;
      q4k_scale_min(x[b].scales, 2 * c, sc0, m0);
      q4k_scale_min(x[b].scales, 2 * c + 1, sc1, m1);
      const float d0 = d * sc0, mm0 = dmin * m0, d1 = d * sc1, mm1 = dmin * m1;
      const uint8_t* q = x[b].qs + 32 * c;
      for (int l = 0; l < 32; ++l) *y++ = d0 * float(q[l] & 0x0f) - mm0;
      for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] >> 4) - mm1;
    }
  }
}

}  // namespace modelswarm::kernels
