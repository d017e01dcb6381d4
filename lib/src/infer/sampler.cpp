#include "modelswarm/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>
#include <vector>

namespace modelswarm {

int32_t argmax(std::span<const float> logits) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplerParams& params) : p_(params), rng_(params.seed) {}

void Sampler::accept(int32_t token) {
  if (p_.repeat_last_n <= 0) return;
  recent_.push_back(token);
  while (recent_.size() > static_cast<size_t>(p_.repeat_last_n)) recent_.pop_front();
}

int32_t Sampler::sample(std::span<const float> logits) {
  struct Cand {
    int32_t id;
    float logit;
  };
  std::vector<Cand> c(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) c[i] = {static_cast<int32_t>(i), logits[i]};

  if (p_.repeat_penalty != 1.0f && !recent_.empty()) {
    std::unordered_set<int32_t> seen(recent_.begin(), recent_.end());
    for (int32_t t : seen) {
      if (t < 0 || static_cast<size_t>(t) >= c.size()) continue;
      float& l = c[t].logit;
      l = l <= 0 ? l * p_.repeat_penalty : l / p_.repeat_penalty;
    }
  }
  auto by_logit = [](const Cand& a, const Cand& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  if (p_.temperature <= 0) return std::min_element(c.begin(), c.end(), by_logit)->id;

  size_t k = c.size();
  if (p_.top_k > 0) k = std::min(k, static_cast<size_t>(p_.top_k));
  std::partial_sort(c.begin(), c.begin() + k, c.end(), by_logit);
  c.resize(k);

  if (p_.top_p < 1.0f) {
    std::vector<double> prob(c.size());
    double sum = 0;
    for (size_t i = 0; i < c.size(); ++i) sum += prob[i] = std::exp(double(c[i].logit) - c[0].logit);
    double cum = 0;
    size_t keep = c.size();
    for (size_t i = 0; i < c.size(); ++i) {
      cum += prob[i] / sum;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
    c.resize(std::max<size_t>(keep, 1));
  }

  std::vector<double> w(c.size());
  double total = 0;
  for (size_t i = 0; i < c.size(); ++i)
    total += w[i] = std::exp((double(c[i].logit) - c[0].logit) / p_.temperature);
  // 53 random bits -> [0, 1): the same draw on every platform, unlike std distributions.
  double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
  for (size_t i = 0; i < c.size(); ++i) {
    if (u < w[i]) return c[i].id;
    u -= w[i];
  }
  return c.back().id;
}

}  // namespace modelswarm
