#include "infer/rope.hpp"

#include <cmath>

namespace modelswarm::infer {

void rope_cache(uint32_t n_rot, float base, float scale, const float* freq_factors, uint32_t pos, float* out) {
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(n_rot));
  float theta = static_cast<float>(pos);
  for (uint32_t i = 0; i < n_rot; i += 2) {
    const float ff = freq_factors ? freq_factors[i / 2] : 1.0f;
    const float t = scale * (theta / ff);
    out[i] = std::cos(t);
    out[i + 1] = std::sin(t);
    theta *= theta_scale;
  }
}

void rope_apply(float* x, uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, RopeMode mode,
                const float* cache) {
  for (uint32_t h = 0; h < n_heads; ++h) {
    float* v = x + size_t(h) * head_dim;
    for (uint32_t i = 0; i < n_rot; i += 2) {
      const float cs = cache[i], sn = cache[i + 1];
      // normal: the pair is adjacent; neox: element i/2 with its partner n_rot/2 further on.
      const uint32_t a = mode == RopeMode::normal ? i : i / 2;
      const uint32_t b = mode == RopeMode::normal ? i + 1 : i / 2 + n_rot / 2;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * cs - x1 * sn;
      v[b] = x0 * sn + x1 * cs;
    }
  }
}

}  // namespace modelswarm::infer
