// The (scale, min) search of the K-quants with mins (Q2_K, Q4_K, Q5_K): sub-blocks each fitted
// with fit_scale_min, then their scales and mins coded in a few bits against fp16 super-scales.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
// The inverse of q4k_scale_min (quant_internal.hpp).
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

void fit_sub_scale_min(const float* x, int sub, int nmax, int code_max, uint8_t* ls, uint8_t* lm,
                       uint16_t& d16, uint16_t& dmin16, uint8_t* L) {
  // Weights favour large elements, offset by the block's RMS so small ones still count.
  float sum_x2 = 0;
  for (size_t j = 0; j < kQK_K; ++j) sum_x2 += x[j] * x[j];
  const float av_x = std::sqrt(sum_x2 / kQK_K);
  const int n_sub = int(kQK_K) / sub;
  float w[32], scales[16], mins[16];
  float max_scale = 0, max_min = 0;
  for (int s = 0; s < n_sub; ++s) {
    for (int l = 0; l < sub; ++l) w[l] = av_x + std::fabs(x[sub * s + l]);
    scales[s] = fit_scale_min(sub, nmax, x + sub * s, w, L + sub * s, mins[s]);
    max_scale = std::max(max_scale, scales[s]);
    max_min = std::max(max_min, mins[s]);
  }
  const float inv_scale = max_scale > 0 ? code_max / max_scale : 0.f;
  const float inv_min = max_min > 0 ? code_max / max_min : 0.f;
  for (int s = 0; s < n_sub; ++s) {
    ls[s] = uint8_t(std::clamp(nearest_int(inv_scale * scales[s]), 0, code_max));
    lm[s] = uint8_t(std::clamp(nearest_int(inv_min * mins[s]), 0, code_max));
  }
  d16 = fp32_to_fp16(max_scale / code_max);
  dmin16 = fp32_to_fp16(max_min / code_max);
  // Re-quantize against the scales as stored, so rounding of d, dmin and the codes is taken
  // into account.
  const float d = fp16_to_fp32(d16), dmin = fp16_to_fp32(dmin16);
  for (int s = 0; s < n_sub; ++s) {
    const float ds = d * ls[s];
    const float dm = dmin * lm[s];
    for (int l = 0; l < sub; ++l)
      L[sub * s + l] =
          ds == 0.f ? 0 : uint8_t(std::clamp(nearest_int((x[sub * s + l] + dm) / ds), 0, nmax));
  }
}

void fit_k_scale_min(const float* x, int nmax, uint8_t* packed, uint16_t& d, uint16_t& dmin,
                     uint8_t* L) {
  uint8_t ls[8], lm[8];
  fit_sub_scale_min(x, 32, nmax, 63, ls, lm, d, dmin, L);
  pack_scales(packed, ls, lm);
}

}  // namespace modelswarm::kernels
