// Q4_1, Q5_0, Q5_1 and IQ4_NL: bit layouts as GGUF defines them, quantizers that round as
// llama.cpp's reference ones do, round-trip error bounds, and every ISA's dot kernel against the
// scalar reference on raw blocks of every bit pattern (all levels, all fifth bits, odd counts).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"
#include "quant_rows.hpp"

using namespace modelswarm;

namespace {
using mstest::gaussian;
using mstest::quantize;
using mstest::relative_rmse;
using mstest::round_trip;

constexpr GgmlType kTypes[] = {GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::IQ4_NL};

std::vector<float> dequantize(GgmlType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  REQUIRE(dequantize_row(t, q.data(), y.data(), n).ok());
  return y;
}

float half(const uint8_t* p) { return fp16_to_fp32(uint16_t(p[0] | p[1] << 8)); }

// The 4-bit field of element j in 16 bytes of nibbles: low nibble j, high nibble j - 16.
int nibble(const uint8_t* qs, int j) { return j < 16 ? qs[j] & 15 : qs[j - 16] >> 4; }
// The fifth bit of element j: bit j of the 4 bytes, little-endian.
int fifth(const uint8_t* qh, int j) { return (qh[j / 8] >> (j % 8)) & 1; }
}  // namespace

TEST_CASE("block layouts: sizes, and element values from the raw bytes") {
  CHECK(ggml_type_traits(uint32_t(GgmlType::Q4_1))->block_bytes == sizeof(BlockQ4_1));
  CHECK(ggml_type_traits(uint32_t(GgmlType::Q5_0))->block_bytes == sizeof(BlockQ5_0));
  CHECK(ggml_type_traits(uint32_t(GgmlType::Q5_1))->block_bytes == sizeof(BlockQ5_1));
  CHECK(ggml_type_traits(uint32_t(GgmlType::IQ4_NL))->block_bytes == sizeof(BlockIQ4_NL));
  const int8_t codebook[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                               1,    13,   25,  38,  53,  69,  89,  113};
  std::mt19937 rng(3);
  for (GgmlType t : kTypes) {
    INFO(ggml_type_name(t));
    const size_t bytes = ggml_type_traits(uint32_t(t))->block_bytes;
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<uint8_t> b(bytes);
      for (auto& v : b) v = uint8_t(rng());
      // Finite scales: 0.5 and -1.25 (and any pattern for the levels).
      b[0] = 0x00, b[1] = 0x38;
      if (t == GgmlType::Q4_1 || t == GgmlType::Q5_1) b[2] = 0x00, b[3] = 0xbd;
      const auto y = dequantize(t, b, 32);
      for (int j = 0; j < 32; ++j) {
        float want = 0;
        switch (t) {
          case GgmlType::Q4_1: want = float(nibble(b.data() + 4, j)) * 0.5f - 1.25f; break;
          case GgmlType::Q5_0:
            want = float((nibble(b.data() + 6, j) | fifth(b.data() + 2, j) << 4) - 16) * 0.5f;
            break;
          case GgmlType::Q5_1:
            want = float(nibble(b.data() + 8, j) | fifth(b.data() + 4, j) << 4) * 0.5f - 1.25f;
            break;
          default: want = float(codebook[nibble(b.data() + 2, j)]) * 0.5f; break;
        }
        REQUIRE(y[size_t(j)] == want);
      }
    }
  }
}

TEST_CASE("Q4_1, Q5_0 and Q5_1 round as llama.cpp's reference quantizers do") {
  const auto x = gaussian(4096, 5);
  const auto q41 = quantize(GgmlType::Q4_1, x), q50 = quantize(GgmlType::Q5_0, x),
             q51 = quantize(GgmlType::Q5_1, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const float* xb = x.data() + 32 * b;
    float lo = xb[0], hi = xb[0], amax = 0, max = 0;
    for (int j = 0; j < 32; ++j) {
      lo = std::fmin(lo, xb[j]);
      hi = std::fmax(hi, xb[j]);
      if (std::fabs(xb[j]) > amax) amax = std::fabs(xb[j]), max = xb[j];
    }
    const uint8_t* b41 = q41.data() + 20 * b;
    const uint8_t* b50 = q50.data() + 22 * b;
    const uint8_t* b51 = q51.data() + 24 * b;
    CHECK(half(b41 + 2) == fp16_to_fp32(fp32_to_fp16(lo)));
    CHECK(half(b51 + 2) == fp16_to_fp32(fp32_to_fp16(lo)));
    CHECK(half(b50) == fp16_to_fp32(fp32_to_fp16(max / -16.f)));
    const float id50 = 1.f / (max / -16.f);
    for (int j = 0; j < 32; ++j) {
      // Truncation of v + 0.5 (v + 16.5 for Q5_0): half up, capped at the top level.
      REQUIRE(nibble(b41 + 4, j) == std::min(15, int((xb[j] - lo) * (1.f / ((hi - lo) / 15.f)) + 0.5f)));
      REQUIRE((nibble(b51 + 8, j) | fifth(b51 + 4, j) << 4) ==
              std::min(31, int((xb[j] - lo) * (1.f / ((hi - lo) / 31.f)) + 0.5f)));
      REQUIRE((nibble(b50 + 6, j) | fifth(b50 + 2, j) << 4) == std::min(31, int(xb[j] * id50 + 16.5f)));
    }
  }
}

TEST_CASE("IQ4_NL picks the nearest codebook entry for the scale it stores") {
  const auto x = gaussian(4096, 9);
  const auto q = quantize(GgmlType::IQ4_NL, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const uint8_t* blk = q.data() + 18 * b;
    const float d = half(blk);
    REQUIRE(d != 0.f);
    for (int j = 0; j < 32; ++j) {
      const float v = x[32 * b + j] / d;
      const int chosen = kIQ4NLValues[nibble(blk + 2, j)];
      for (int8_t other : kIQ4NLValues) REQUIRE(std::fabs(v - chosen) <= std::fabs(v - other) + 1e-4f);
    }
  }
}

TEST_CASE("round trips stay within the error each format allows") {
  const auto x = gaussian(8192, 11);
  const auto y41 = round_trip(GgmlType::Q4_1, x);
  const auto y50 = round_trip(GgmlType::Q5_0, x);
  const auto y51 = round_trip(GgmlType::Q5_1, x);
  const auto yiq = round_trip(GgmlType::IQ4_NL, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float lo = x[32 * b], hi = lo, amax = 0;
    for (size_t j = 32 * b; j < 32 * b + 32; ++j) {
      lo = std::fmin(lo, x[j]);
      hi = std::fmax(hi, x[j]);
      amax = std::fmax(amax, std::fabs(x[j]));
    }
    // Half a step, plus the fp16 rounding of d and m (relative 2^-11 of their size, times the
    // largest level).
    const float fp16 = amax * 0x1p-9f;
    for (size_t j = 32 * b; j < 32 * b + 32; ++j) {
      REQUIRE(std::fabs(y41[j] - x[j]) <= (hi - lo) / 15.f * 0.5f + fp16);
      REQUIRE(std::fabs(y51[j] - x[j]) <= (hi - lo) / 31.f * 0.5f + fp16);
      // The positive side has one level fewer, so the top value may be off by a whole step.
      REQUIRE(std::fabs(y50[j] - x[j]) <= amax / 16.f * 1.001f);
      // The codebook's widest gap is 24 levels of 127 at the scale the search chose.
      REQUIRE(std::fabs(yiq[j] - x[j]) <= amax / 127.f * 24.f);
    }
  }
  const double e41 = relative_rmse(x, y41), e50 = relative_rmse(x, y50),
               e51 = relative_rmse(x, y51), eiq = relative_rmse(x, yiq);
  const auto y40 = round_trip(GgmlType::Q4_0, x);
  const double e40 = relative_rmse(x, y40);
  MESSAGE("relative rmse Q4_0 " << e40 << " Q4_1 " << e41 << " IQ4_NL " << eiq << " Q5_0 " << e50
                                << " Q5_1 " << e51);
  // A fifth bit halves the step; the non-linear codebook beats Q4_0's even levels.
  CHECK(e51 < e41 * 0.6);
  CHECK(e50 < e40 * 0.6);
  CHECK(eiq < e40);
  CHECK(e41 < 0.12);
}

TEST_CASE("constant, zero and sparse blocks quantize without NaN") {
  for (GgmlType t : kTypes) {
    for (float v : {0.f, 1.f, -3.5f}) {
      std::vector<float> x(64, v);
      x[17] = v * 2;
      const auto y = round_trip(t, x);
      INFO(ggml_type_name(t) << " " << v);
      for (size_t i = 0; i < x.size(); ++i) REQUIRE(std::fabs(y[i] - x[i]) <= std::fabs(v) * 0.2f);
    }
  }
}

TEST_CASE("every ISA's dot kernel equals the scalar reference on raw blocks of any bits") {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
  for (GgmlType t : kTypes) {
    const GgmlTypeTraits tr = *ggml_type_traits(uint32_t(t));
    for (size_t cols : {size_t(32), size_t(96), size_t(256), size_t(1056)}) {
      const size_t rows = 9, rb = *ggml_row_bytes(t, cols);
      std::vector<uint8_t> w(rows * rb);
      for (auto& v : w) v = uint8_t(rng());
      for (size_t r = 0; r < rows; ++r) {
        for (size_t b = 0; b < cols / 32; ++b) {
          uint8_t* blk = w.data() + r * rb + b * tr.block_bytes;
          // Row 0: every level at its maximum, every fifth bit set; the scales stay finite.
          if (r == 0) std::memset(blk, 0xff, tr.block_bytes);
          const uint16_t d = fp32_to_fp16(scale(rng)), m = fp32_to_fp16(scale(rng));
          std::memcpy(blk, &d, 2);
          if (t == GgmlType::Q4_1 || t == GgmlType::Q5_1) std::memcpy(blk + 2, &m, 2);
        }
      }
      // Activations whose blocks quantize to ±127 at both ends.
      auto x = gaussian(cols, uint32_t(cols), 3.f);
      x[0] = 50.f, x[cols - 1] = -50.f;
      const MatrixView view{t, w.data(), rows, cols, rb};
      REQUIRE(set_kernel_isa("scalar").ok());
      std::vector<float> ref(rows);
      REQUIRE(matvec(view, x.data(), ref.data(), nullptr).ok());
      std::vector<float> deq(cols);
      for (const std::string& isa : supported_kernel_isas()) {
        REQUIRE(set_kernel_isa(isa).ok());
        std::vector<float> y(rows, NAN), ym(2 * rows, NAN);
        REQUIRE(matvec(view, x.data(), y.data(), nullptr).ok());
        std::vector<float> x2(x);
        x2.insert(x2.end(), x.begin(), x.end());
        REQUIRE(matmul(view, x2.data(), 2, cols, ym.data(), rows, nullptr).ok());
        for (size_t r = 0; r < rows; ++r) {
          REQUIRE(dequantize_row(t, w.data() + r * rb, deq.data(), cols).ok());
          double mag = 0;
          for (size_t i = 0; i < cols; ++i) mag += std::fabs(double(deq[i]) * x[i]);
          INFO(isa << " " << tr.name << " cols " << cols << " row " << r);
          REQUIRE(std::fabs(y[r] - ref[r]) <= 2e-5 * mag + 1e-30);
          REQUIRE(std::fabs(ym[r] - ref[r]) <= 2e-5 * mag + 1e-30);
          REQUIRE(std::fabs(ym[rows + r] - ref[r]) <= 2e-5 * mag + 1e-30);
        }
      }
    }
  }
  REQUIRE(set_kernel_isa("auto").ok());
}

TEST_CASE("the scalar reference is the product of the dequantized weights and Q8_0 activations") {
  for (GgmlType t : kTypes) {
    const size_t cols = 1056;
    const auto w = gaussian(cols, 21, 0.05f), x = gaussian(cols, 22);
    const auto wq = quantize(t, w);
    const auto wd = round_trip(t, w), xd = round_trip(GgmlType::Q8_0, x);
    double want = 0, mag = 0;
    for (size_t i = 0; i < cols; ++i) {
      want += double(wd[i]) * xd[i];
      mag += std::fabs(double(wd[i]) * xd[i]);
    }
    for (const std::string& isa : supported_kernel_isas()) {
      REQUIRE(set_kernel_isa(isa).ok());
      float got = NAN;
      REQUIRE(matvec({t, wq.data(), 1, cols, wq.size()}, x.data(), &got, nullptr).ok());
      INFO(ggml_type_name(t) << " " << isa);
      CHECK(std::fabs(got - want) <= 2e-5 * mag);
    }
  }
  REQUIRE(set_kernel_isa("auto").ok());
}
