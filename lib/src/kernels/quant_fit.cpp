#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/quant_internal.hpp"

namespace modelswarm::kernels {

namespace {
// Weighted least squares for scale and offset over fixed levels L; the offset may not exceed 0
// (the format stores a non-negative min that is subtracted).
void solve_scale_offset(int n, const float* x, const float* w, const uint8_t* L, float& scale,
                        float& offset) {
  double sw = 0, sl = 0, sl2 = 0, sx = 0, slx = 0;
  for (int i = 0; i < n; ++i) {
    sw += w[i];
    sl += w[i] * L[i];
    sl2 += w[i] * double(L[i]) * L[i];
    sx += w[i] * x[i];
    slx += w[i] * L[i] * double(x[i]);
  }
  const double det = sw * sl2 - sl * sl;
  if (det > 0) {
    scale = float((sw * slx - sx * sl) / det);
    offset = float((sl2 * sx - sl * slx) / det);
    if (offset <= 0) return;
  }
  offset = 0;
  scale = sl2 > 0 ? float(slx / sl2) : 0.f;
}

float weighted_error(int n, const float* x, const float* w, const uint8_t* L, float scale,
                     float offset) {
  float e = 0;
  for (int i = 0; i < n; ++i) {
    const float d = scale * L[i] + offset - x[i];
    e += w[i] * d * d;
  }
  return e;
}
}  // namespace

float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float& mn) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.f);
  if (hi <= lo) {
    std::fill(L, L + n, 0);
    mn = -lo;
    return 0.f;
  }
  uint8_t cand[kQK_K];
  float best_err = std::numeric_limits<float>::infinity();
  float best_scale = (hi - lo) / nmax, best_offset = lo;
  // Candidate steps from (nmax-1) to (nmax+1) levels over the range, then refit each.
  for (int step = -1; step <= 20; ++step) {
    const float iscale = step < 0 ? nmax / (hi - lo) : (nmax - 1.f + 0.1f * step) / (hi - lo);
    for (int i = 0; i < n; ++i)
      cand[i] = uint8_t(std::clamp(nearest_int(iscale * (x[i] - lo)), 0, nmax));
    float scale = 1.f / iscale, offset = lo;
    if (step >= 0) solve_scale_offset(n, x, w, cand, scale, offset);
    const float err = weighted_error(n, x, w, cand, scale, offset);
    if (err < best_err) {
      best_err = err;
      best_scale = scale;
      best_offset = offset;
      std::copy(cand, cand + n, L);
    }
  }
  mn = -best_offset;
  return best_scale;
}

float fit_scale_sym(int n, int nmax, const float* x, uint8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < 1e-30f) {
    std::fill(L, L + n, uint8_t(nmax));
    return 0.f;
  }
  std::fill(L, L + n, uint8_t(nmax));
  float best_score = -1, best_scale = 0;
  // Two passes per candidate: the levels (vectorisable), then the sums with four independent
  // partial sums (a single running double sum was three quarters of a Q6_K file's conversion).
  int lv[kQK_K];
  float w[kQK_K];
  for (int i = 0; i < n; ++i) w[i] = x[i] * x[i];
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(nmax + 0.1f * step) / max;
    for (int i = 0; i < n; ++i) lv[i] = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    float slx[4] = {0, 0, 0, 0}, sl2[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= n; i += 4)
      for (int k = 0; k < 4; ++k) {
        const float l = float(lv[i + k]);
        slx[k] += w[i + k] * l * x[i + k];
        sl2[k] += w[i + k] * l * l;
      }
    for (; i < n; ++i) {
      const float l = float(lv[i]);
      slx[0] += w[i] * l * x[i];
      sl2[0] += w[i] * l * l;
    }
    const double sx = double(slx[0]) + slx[1] + slx[2] + slx[3];
    const double s2 = double(sl2[0]) + sl2[1] + sl2[2] + sl2[3];
    // With the least-squares scale sx/s2 the error falls as sx^2/s2 grows.
    if (s2 > 0 && sx * sx / s2 > best_score) {
      best_score = float(sx * sx / s2);
      best_scale = float(sx / s2);
      for (int j = 0; j < n; ++j) L[j] = uint8_t(lv[j] + nmax);
    }
  }
  return best_scale;
}

}  // namespace modelswarm::kernels
