// Row helpers of the format tests: random rows, whole-row quantize / dequantize, and the error.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "modelswarm/quant.hpp"

namespace mstest {

inline std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::vector<uint8_t> quantize(modelswarm::GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(*modelswarm::ggml_row_bytes(t, x.size()));
  REQUIRE(modelswarm::quantize_row(t, x.data(), q.data(), x.size()).ok());
  return q;
}

inline std::vector<float> round_trip(modelswarm::GgmlType t, const std::vector<float>& x) {
  auto q = quantize(t, x);
  std::vector<float> y(x.size());
  REQUIRE(modelswarm::dequantize_row(t, q.data(), y.data(), y.size()).ok());
  return y;
}

inline double relative_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0, s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    e += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    s += double(x[i]) * x[i];
  }
  return std::sqrt(e / s);
}

}  // namespace mstest
