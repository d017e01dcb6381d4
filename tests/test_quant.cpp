// Tensor formats: exact fp16/bf16 rounding, bit layouts of the quantized blocks (as llama.cpp
// defines them), and round-trip error bounds of the quantizers.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
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

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
}  // namespace

TEST_CASE("block sizes agree with the GGML type table") {
  CHECK(ggml_type_traits(uint32_t(GgmlType::Q4_0))->block_bytes == sizeof(BlockQ4_0));
  CHECK(ggml_type_traits(uint32_t(GgmlType::Q8_0))->block_bytes == sizeof(BlockQ8_0));
  CHECK(ggml_type_traits(uint32_t(GgmlType::Q4_K))->block_bytes == sizeof(BlockQ4_K));
  CHECK(ggml_type_traits(uint32_t(GgmlType::Q6_K))->block_bytes == sizeof(BlockQ6_K));
  CHECK(ggml_type_traits(uint32_t(GgmlType::Q8_K))->block_bytes == sizeof(BlockQ8_K));
}

TEST_CASE("the type table: ids in order, names, and flags that match the functions") {
  bool first = true;
  uint32_t last = 0;
  std::vector<std::string_view> engine;
  for (const GgmlTypeTraits& t : ggml_types()) {
    INFO(t.name);
    CHECK((first || uint32_t(t.type) > last));
    first = false;
    last = uint32_t(t.type);
    CHECK(ggml_type_from_name(t.name) == t.type);
    CHECK(ggml_type_traits(uint32_t(t.type))->name == t.name);
    CHECK(ggml_type_name(t.type) == t.name);
    CHECK(matmul_supported(t.type) == t.engine);
    if (t.quantize) CHECK(t.engine);
    if (t.engine) {
      engine.push_back(t.name);
      CHECK(quant_supported(t.type));
      CHECK(quant_supported(t.dot_type));
    }
    if (quant_supported(t.type)) {  // every row conversion works on a row of two blocks
      const auto x = gaussian(2 * t.block_elements, 5);
      // Below 3 bits per element (Q2_K) the error is about a quarter of the signal.
      const double bits = 8.0 * t.block_bytes / t.block_elements;
      CHECK(relative_rmse(x, round_trip(t.type, x)) < (bits < 3 ? 0.35 : 0.2));
    }
  }
  const std::vector<std::string_view> runs = {"F32",  "F16",  "Q4_0", "Q4_1",   "Q5_0",   "Q5_1", "Q8_0", "Q2_K",
                                              "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "BF16"};
  CHECK(engine == runs);
  CHECK(ggml_type_name(GgmlType(4)) == "4");
  CHECK(ggml_type_names([](const GgmlTypeTraits& t) { return t.quantize; }) ==
        "F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, IQ4_NL, BF16");
  CHECK(!ggml_type_traits(4));
  CHECK(!ggml_type_traits(kGgmlTypeIdLimit));
}

TEST_CASE("fp16: every half survives a round trip through float") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(uint16_t(h));
    const bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
    if (is_nan) {
      CHECK(std::isnan(f));
      CHECK(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
    } else {
      REQUIRE(fp32_to_fp16(f) == h);
    }
  }
}

TEST_CASE("fp16: float to half rounds to nearest, ties to even") {
  CHECK(fp32_to_fp16(65504.f) == 0x7bff);
  CHECK(fp32_to_fp16(65519.99f) == 0x7bff);
  CHECK(fp32_to_fp16(65520.f) == 0x7c00);  // tie between 65504 (odd) and 2^16: infinity
  CHECK(fp32_to_fp16(-1e9f) == 0xfc00);
  CHECK(fp32_to_fp16(0x1p-25f) == 0x0000);           // tie between 0 and 2^-24: even is 0
  CHECK(fp32_to_fp16(0x1.000002p-25f) == 0x0001);
  CHECK(fp32_to_fp16(0x3p-25f) == 0x0002);            // 1.5 units: tie, even is 2
  CHECK(fp32_to_fp16(-0.f) == 0x8000);
  CHECK(fp32_to_fp16(1.f + 0x1p-11f) == 0x3c00);      // tie, even mantissa kept
  CHECK(fp32_to_fp16(1.f + 0x3p-11f) == 0x3c02);      // tie, rounds up to even
  CHECK(fp32_to_fp16(0x1.ffcp-15f) == 0x0400);        // subnormal rounds up into the normals

  // Random floats across the half range: the result is the nearest half, even on ties.
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> u(0, 0x477fffff);
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(u(rng));
    const uint16_t h = fp32_to_fp16(f);
    const double err = std::fabs(double(fp16_to_fp32(h)) - f);
    for (int delta : {-1, 1}) {
      const int nb = int(h) + delta;
      if (nb < 0 || nb >= 0x7c00) continue;
      const double other = std::fabs(double(fp16_to_fp32(uint16_t(nb))) - f);
      REQUIRE(err <= other);
      if (err == other) REQUIRE((h & 1) == 0);
    }
  }
}

TEST_CASE("bf16: round trip and round to nearest even") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_fp32(uint16_t(h));
    if (std::isnan(f)) {
      CHECK(std::isnan(bf16_to_fp32(fp32_to_bf16(f))));
    } else {
      REQUIRE(fp32_to_bf16(f) == h);
    }
  }
  CHECK(fp32_to_bf16(1.f + 0x1p-8f) == fp32_to_bf16(1.f));  // tie, even kept
  CHECK(bits(bf16_to_fp32(fp32_to_bf16(1.f + 0x3p-8f))) == bits(1.f + 0x1p-6f));
  CHECK(bits(bf16_to_fp32(fp32_to_bf16(1.f + 0x1.01p-8f))) == bits(1.f + 0x1p-7f));
  CHECK(std::isnan(bf16_to_fp32(fp32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isnan(bf16_to_fp32(fp32_to_bf16(std::bit_cast<float>(0x7f800001u)))));
}

TEST_CASE("Q4_0 layout: fp16 d, low nibble element j, high nibble element j+16, (q-8)*d") {
  std::vector<float> x(64);
  for (size_t j = 0; j < 64; ++j) x[j] = float(int(j * 5 % 16) - 8);
  x[3] = -8.f, x[40] = -8.f;  // the extreme is negative in both blocks, so d = 1 exactly
  auto q = quantize(GgmlType::Q4_0, x);
  REQUIRE(q.size() == 36);
  for (size_t b = 0; b < 2; ++b) {
    const uint8_t* blk = q.data() + 18 * b;
    CHECK((blk[0] | (blk[1] << 8)) == 0x3c00);
    for (size_t j = 0; j < 16; ++j) {
      CHECK((blk[2 + j] & 0x0f) == int(x[32 * b + j]) + 8);
      CHECK((blk[2 + j] >> 4) == int(x[32 * b + j + 16]) + 8);
    }
  }
  CHECK(round_trip(GgmlType::Q4_0, x) == x);
}

TEST_CASE("Q8_0 layout: fp16 d then 32 int8") {
  std::vector<float> x(32);
  for (size_t j = 0; j < 32; ++j) x[j] = float(int(j * 37 % 255) - 127);
  x[0] = 127.f;
  auto q = quantize(GgmlType::Q8_0, x);
  REQUIRE(q.size() == 34);
  CHECK((q[0] | (q[1] << 8)) == 0x3c00);
  for (size_t j = 0; j < 32; ++j) CHECK(int8_t(q[2 + j]) == int(x[j]));
  CHECK(round_trip(GgmlType::Q8_0, x) == x);
}

TEST_CASE("Q8_0 and Q4_0 round as llama.cpp's reference quantizers do") {
  const auto x = gaussian(4096, 5);
  const auto q8 = quantize(GgmlType::Q8_0, x);
  const auto q4 = quantize(GgmlType::Q4_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0, max = 0;
    for (size_t j = 0; j < 32; ++j) {
      if (std::fabs(x[32 * b + j]) > amax) amax = std::fabs(x[32 * b + j]), max = x[32 * b + j];
    }
    const float d4 = max / -8.f, id4 = 1.f / d4;
    for (size_t j = 0; j < 32; ++j) {
      // roundf: half away from zero. Q4_0 truncates v + 8.5 (half up), capped at 15.
      REQUIRE(int8_t(q8[34 * b + 2 + j]) == int(std::round(x[32 * b + j] * (1.f / (amax / 127.f)))));
      const int e = std::min(15, int(x[32 * b + j] * id4 + 8.5f));
      const uint8_t byte = q4[18 * b + 2 + j % 16];
      REQUIRE((j < 16 ? (byte & 15) : (byte >> 4)) == e);
    }
  }
}

TEST_CASE("Q6_K layout: element values from ql nibbles, qh bit pairs and int8 scales") {
  BlockQ6_K b{};
  b.d = fp32_to_fp16(0.5f);
  for (int s = 0; s < 16; ++s) b.scales[s] = int8_t(s * 9 - 70);
  auto level = [](int e) { return (e * 29 + 3) % 64; };
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, p = e % 128, q = level(e);
    b.ql[64 * h + p % 64] |= uint8_t((q & 15) << (4 * (p / 64)));
    b.qh[32 * h + p % 32] |= uint8_t((q >> 4) << (2 * (p / 32)));
  }
  std::vector<float> y(256);
  REQUIRE(dequantize_row(GgmlType::Q6_K, &b, y.data(), 256).ok());
  for (int e = 0; e < 256; ++e) CHECK(y[e] == 0.5f * b.scales[e / 16] * float(level(e) - 32));
}

TEST_CASE("Q4_K layout: 6-bit scales and mins, nibbles per 64-element chunk") {
  BlockQ4_K b{};
  b.d = fp32_to_fp16(0.25f);
  b.dmin = fp32_to_fp16(0.125f);
  const uint8_t sc[8] = {1, 63, 17, 32, 45, 2, 60, 33}, mn[8] = {5, 0, 63, 40, 16, 49, 7, 31};
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = uint8_t(sc[j] | ((sc[j + 4] >> 4) << 6));
    b.scales[j + 4] = uint8_t(mn[j] | ((mn[j + 4] >> 4) << 6));
    b.scales[j + 8] = uint8_t((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
  }
  auto level = [](int e) { return (e * 7 + 1) % 16; };
  for (int e = 0; e < 256; ++e) {
    const int c = e / 64, r = e % 64;
    b.qs[32 * c + r % 32] |= uint8_t(level(e) << (4 * (r / 32)));
  }
  std::vector<float> y(256);
  REQUIRE(dequantize_row(GgmlType::Q4_K, &b, y.data(), 256).ok());
  for (int e = 0; e < 256; ++e) {
    const int s = e / 32;
    CHECK(y[e] == 0.25f * sc[s] * float(level(e)) - 0.125f * mn[s]);
  }
}

namespace {
// One super-block of random bytes with the fp16 scales at `d_at` (and `dmin_at` if not -1) set.
std::vector<uint8_t> random_block(size_t bytes, int d_at, int dmin_at, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(bytes);
  for (auto& v : b) v = uint8_t(rng());
  const uint16_t d = fp32_to_fp16(0.25f), dmin = fp32_to_fp16(0.125f);
  std::memcpy(b.data() + d_at, &d, 2);
  if (dmin_at >= 0) std::memcpy(b.data() + dmin_at, &dmin, 2);
  return b;
}

std::vector<float> dequantized(GgmlType t, const std::vector<uint8_t>& block) {
  std::vector<float> y(256);
  REQUIRE(dequantize_row(t, block.data(), y.data(), 256).ok());
  return y;
}
}  // namespace

// Byte offsets as in llama.cpp's block structs; element formulas from its dequantizers.
TEST_CASE("Q5_K layout: d, dmin, Q4_K's scales, qh bit per 32-element sub-block, nibbles") {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto b = random_block(176, 0, 2, seed);
    const uint8_t *sc = b.data() + 4, *qh = b.data() + 16, *qs = b.data() + 48;
    const auto y = dequantized(GgmlType::Q5_K, b);
    for (int e = 0; e < 256; ++e) {
      const int s = e / 32;
      const int scale = s < 4 ? sc[s] & 63 : (sc[s + 4] & 15) | ((sc[s - 4] >> 6) << 4);
      const int min = s < 4 ? sc[s + 4] & 63 : (sc[s + 4] >> 4) | ((sc[s] >> 6) << 4);
      const int q = ((qs[32 * (e / 64) + e % 32] >> (4 * (s % 2))) & 15) + ((qh[e % 32] >> s) & 1) * 16;
      REQUIRE(y[e] == 0.25f * float(scale) * float(q) - 0.125f * float(min));
    }
  }
}

TEST_CASE("Q3_K layout: hmask, 2-bit quants, 6-bit signed scales in 12 bytes, d last") {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto b = random_block(110, 108, -1, seed);
    const uint8_t *hm = b.data(), *qs = b.data() + 32, *sc = b.data() + 96;
    const auto y = dequantized(GgmlType::Q3_K, b);
    for (int e = 0; e < 256; ++e) {
      const int is = e / 16, n = e / 128, j = (e % 128) / 32, l = e % 32;
      const int code = is < 4    ? (sc[is] & 15) | ((sc[is + 8] & 3) << 4)
                       : is < 8  ? (sc[is] & 15) | (((sc[is + 4] >> 2) & 3) << 4)
                       : is < 12 ? (sc[is - 8] >> 4) | (((sc[is] >> 4) & 3) << 4)
                                 : (sc[is - 8] >> 4) | (((sc[is - 4] >> 6) & 3) << 4);
      const int q = ((qs[32 * n + l] >> (2 * j)) & 3) - ((hm[l] >> (4 * n + j)) & 1 ? 0 : 4);
      REQUIRE(y[e] == 0.25f * float(code - 32) * float(q));
    }
  }
}

TEST_CASE("Q2_K layout: scale and min nibbles per 16 elements, 2-bit quants, d, dmin") {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto b = random_block(84, 80, 82, seed);
    const uint8_t *sc = b.data(), *qs = b.data() + 16;
    const auto y = dequantized(GgmlType::Q2_K, b);
    for (int e = 0; e < 256; ++e) {
      const int q = (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      REQUIRE(y[e] == 0.25f * float(sc[e / 16] & 15) * float(q) - 0.125f * float(sc[e / 16] >> 4));
    }
  }
}

TEST_CASE("IQ4_XS layout: d, scales_h, scales_l, nibbles indexing the IQ4_NL codebook") {
  const int8_t codebook[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto b = random_block(136, 0, -1, seed);
    const uint16_t sh = uint16_t(b[2] | (b[3] << 8));
    const uint8_t *sl = b.data() + 4, *qs = b.data() + 8;
    const auto y = dequantized(GgmlType::IQ4_XS, b);
    for (int e = 0; e < 256; ++e) {
      const int ib = e / 32, j = e % 32;
      const int ls = ((sl[ib / 2] >> (4 * (ib % 2))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
      const int q = j < 16 ? qs[16 * ib + j] & 15 : qs[16 * ib + j - 16] >> 4;
      REQUIRE(y[e] == 0.25f * float(ls - 32) * float(codebook[q]));
    }
  }
}

TEST_CASE("Q8_K: per-256 scale and sums of 16") {
  auto x = gaussian(512, 3);
  auto q = quantize(GgmlType::Q8_K, x);
  for (int b = 0; b < 2; ++b) {
    BlockQ8_K blk;
    std::memcpy(&blk, q.data() + b * sizeof(BlockQ8_K), sizeof blk);
    float amax = 0;
    for (int j = 0; j < 256; ++j) amax = std::fmax(amax, std::fabs(x[256 * b + j]));
    CHECK(std::fabs(blk.d) == doctest::Approx(amax / 127.f).epsilon(1e-6));
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += blk.qs[16 * g + j];
      CHECK(blk.bsums[g] == s);
    }
    for (int j = 0; j < 256; ++j)
      CHECK(std::fabs(blk.d * blk.qs[j] - x[256 * b + j]) <= std::fabs(blk.d) * 0.5001f);
  }
}

TEST_CASE("round trips stay within the error each format allows") {
  const auto x = gaussian(8192, 11);
  // Per-element bounds from the format: half a quantization step, plus fp16 rounding of d.
  const auto y8 = round_trip(GgmlType::Q8_0, x);
  const auto y4 = round_trip(GgmlType::Q4_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (size_t j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[32 * b + j]));
    for (size_t j = 32 * b; j < 32 * b + 32; ++j) {
      REQUIRE(std::fabs(y8[j] - x[j]) <= amax / 127.f * 0.5f + amax * 0x1p-10f);
      // The positive side has one level fewer, so the top value may be off by a whole step.
      REQUIRE(std::fabs(y4[j] - x[j]) <= amax / 8.f * 1.001f);
    }
  }
  // Relative RMS error on Gaussian data (typical values: Q8_0 0.5%, Q6_K 1.8%, Q4_K 7%,
  // Q4_0 8.6%); the K-quant search must beat the plain formats of the same width.
  const double e8 = relative_rmse(x, y8), e4 = relative_rmse(x, y4);
  const double e4k = relative_rmse(x, round_trip(GgmlType::Q4_K, x));
  const double e6k = relative_rmse(x, round_trip(GgmlType::Q6_K, x));
  MESSAGE("relative rmse Q8_0 " << e8 << " Q6_K " << e6k << " Q4_K " << e4k << " Q4_0 " << e4);
  CHECK(e8 < 0.007);
  CHECK(e6k < 0.025);
  CHECK(e4k < 0.08);
  CHECK(e4 < 0.12);
  CHECK(e4k < e4);
  CHECK(e6k < e4k / 3);
  for (GgmlType t : {GgmlType::F16, GgmlType::BF16, GgmlType::F32})
    CHECK(relative_rmse(x, round_trip(t, x)) < 0.005);
}

TEST_CASE("Q5_K, Q3_K, Q2_K, IQ4_XS: round trips within their formats' error") {
  const auto x = gaussian(8192, 12);
  const double e5k = relative_rmse(x, round_trip(GgmlType::Q5_K, x));
  const double e4k = relative_rmse(x, round_trip(GgmlType::Q4_K, x));
  const double e3k = relative_rmse(x, round_trip(GgmlType::Q3_K, x));
  const double e2k = relative_rmse(x, round_trip(GgmlType::Q2_K, x));
  const double exs = relative_rmse(x, round_trip(GgmlType::IQ4_XS, x));
  const double e40 = relative_rmse(x, round_trip(GgmlType::Q4_0, x));
  MESSAGE("relative rmse Q5_K " << e5k << " IQ4_XS " << exs << " Q3_K " << e3k << " Q2_K " << e2k);
  // Each bit fewer roughly doubles the error; the fitted formats beat Q4_0 at their width.
  CHECK(e5k < 0.045);
  CHECK(e5k < e4k * 0.6);
  CHECK(exs < 0.085);
  CHECK(exs < e40);
  CHECK(e3k < 0.2);
  CHECK(e3k > e4k);
  CHECK(e2k < 0.36);
  CHECK(e2k > e3k);
  // Per element: within one step of the sub-block's grid of the largest element (Q5_K: 31 steps
  // over the sub-block's range; Q3_K: 4 steps over its largest magnitude).
  const auto y5 = round_trip(GgmlType::Q5_K, x);
  const auto y3 = round_trip(GgmlType::Q3_K, x);
  for (size_t s = 0; s < x.size() / 32; ++s) {
    float lo = 0, hi = 0, amax3[2] = {0, 0};
    for (size_t j = 32 * s; j < 32 * s + 32; ++j) {
      lo = std::fmin(lo, x[j]);
      hi = std::fmax(hi, x[j]);
      amax3[(j / 16) % 2] = std::fmax(amax3[(j / 16) % 2], std::fabs(x[j]));
    }
    for (size_t j = 32 * s; j < 32 * s + 32; ++j) {
      REQUIRE(std::fabs(y5[j] - x[j]) <= (hi - lo) / 31.f * 1.5f);
      REQUIRE(std::fabs(y3[j] - x[j]) <= amax3[(j / 16) % 2] / 4.f * 1.5f);
    }
  }
}

TEST_CASE("constant, zero and sparse blocks quantize without NaN") {
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K,
                     GgmlType::Q8_K, GgmlType::Q5_K, GgmlType::Q3_K, GgmlType::Q2_K,
                     GgmlType::IQ4_XS}) {
    for (float v : {0.f, 1.f, -3.5f}) {
      std::vector<float> x(256, v);
      x[17] = v * 2;
      const auto y = round_trip(t, x);
      for (size_t i = 0; i < x.size(); ++i) REQUIRE(std::fabs(y[i] - x[i]) <= std::fabs(v) * 0.2f);
    }
  }
}

TEST_CASE("row length must be whole blocks; unsupported types are refused") {
  std::vector<float> x(48, 1.f);
  std::vector<uint8_t> q(1024);
  auto s = quantize_row(GgmlType::Q4_0, x.data(), q.data(), 48);
  REQUIRE(!s.ok());
  CHECK(s.error().code == ErrorCode::invalid_argument);
  CHECK(s.error().message.find("multiple of the block size 32") != std::string::npos);
  CHECK(!dequantize_row(GgmlType::Q6_K, q.data(), x.data(), 32).ok());
  auto u = quantize_row(GgmlType::TQ1_0, x.data(), q.data(), 256);
  REQUIRE(!u.ok());
  CHECK(u.error().code == ErrorCode::unsupported);
  CHECK(u.error().message.find("TQ1_0") != std::string::npos);
  CHECK(quantize_row(GgmlType::F16, x.data(), q.data(), 47).ok());
}
