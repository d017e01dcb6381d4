// Matrix kernels: every instruction set agrees with the scalar reference on random inputs of
// many shapes, and matvec / matmul agree with a float product of the dequantized weights.
#include <doctest/doctest.h>
#include <algorithm>
#include <limits>

#include <chrono>
#include <cstring>
#include <cmath>
#include <thread>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/gemm_packed.hpp"
#include "kernels/kernel_bench.hpp"
#include "kernels/gemm_packed.hpp"
#include "kernels/kquant2.hpp"
#include "kernels/type_kernels.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"
#include "modelswarm/thread_pool.hpp"
#include "test_env.hpp"

using namespace modelswarm;

namespace {
// SIMD and scalar kernels compute the same integer block sums but add the scaled blocks in a
// different order: allow float rounding relative to Σ|w·x|.
constexpr double kReorderTolerance = 2e-5;
// Activations are quantized to 8 bits (per 32 or 256 elements) before the product; against a
// float product that costs up to about half a step per element.
constexpr double kActivationQuantTolerance = 1.5e-2;

using mstest::sanitized;

struct IsaGuard {
  ~IsaGuard() { (void)set_kernel_isa("auto"); }
};

std::vector<float> gaussian(size_t n, std::mt19937& rng, float sigma = 1.f) {
  std::normal_distribution<float> d(0.f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

struct Matrix {
  GgmlType type;
  size_t rows, cols, row_bytes;
  std::vector<uint8_t> data;
  std::vector<float> dequant;  // rows x cols
  MatrixView view() const { return {type, data.data(), rows, cols, row_bytes}; }
};

Matrix random_matrix(GgmlType type, size_t rows, size_t cols, std::mt19937& rng,
                     size_t pad = 0) {
  Matrix m{type, rows, cols, *ggml_row_bytes(type, cols) + pad, {}, {}};
  m.data.assign(m.row_bytes * rows, 0xAB);
  m.dequant.resize(rows * cols);
  for (size_t r = 0; r < rows; ++r) {
    auto src = gaussian(cols, rng, 0.05f);
    REQUIRE(quantize_row(type, src.data(), m.data.data() + r * m.row_bytes, cols).ok());
    REQUIRE(dequantize_row(type, m.data.data() + r * m.row_bytes, m.dequant.data() + r * cols,
                           cols)
                .ok());
  }
  return m;
}

// Σ|w·x| for row r: the scale of rounding errors in that row's dot product.
double magnitude(const Matrix& m, size_t r, const float* x) {
  double s = 0;
  for (size_t i = 0; i < m.cols; ++i) s += std::fabs(double(m.dequant[r * m.cols + i]) * x[i]);
  return s;
}

double exact_dot(const Matrix& m, size_t r, const float* x) {
  double s = 0;
  for (size_t i = 0; i < m.cols; ++i) s += double(m.dequant[r * m.cols + i]) * x[i];
  return s;
}

// Every type the engine runs, from the type table: a new row is tested without naming it here.
std::vector<GgmlType> engine_types() {
  std::vector<GgmlType> out;
  for (const GgmlTypeTraits& t : ggml_types())
    if (t.engine) out.push_back(t.type);
  return out;
}

std::vector<size_t> shapes_for(GgmlType t) {
  const auto block = ggml_type_traits(uint32_t(t))->block_elements;
  if (block == 1) return {1, 7, 16, 31, 33, 100, 257, 1024, 2051};
  if (block == 32) return {32, 64, 96, 160, 480, 512, 544, 1056, 2048, 2080};
  return {256, 512, 768, 1280, 2304, 4352};
}

std::vector<KernelIsa> isas() {
  std::vector<KernelIsa> out;
  for (KernelIsa i : {KernelIsa::scalar, KernelIsa::avx2, KernelIsa::avx512})
    if (kernel_isa_supported(i)) out.push_back(i);
  return out;
}
}  // namespace

TEST_CASE("instruction set selection") {
  IsaGuard guard;
  auto names = supported_kernel_isas();
  REQUIRE(!names.empty());
  CHECK(names.front() == "scalar");
  CHECK(names.back() == kernel_isa_name(best_kernel_isa()));
  CHECK(kernel_isa() == best_kernel_isa());
  for (const auto& n : names) {
    REQUIRE(set_kernel_isa(n).ok());
    CHECK(kernel_isa_name(kernel_isa()) == n);
  }
  auto bad = set_kernel_isa("sse9");
  REQUIRE(!bad.ok());
  CHECK(bad.error().code == ErrorCode::invalid_argument);
  CHECK(bad.error().message.find("sse9") != std::string::npos);
  for (KernelIsa i : {KernelIsa::avx2, KernelIsa::avx512}) {
    if (!kernel_isa_supported(i)) {
      auto s = set_kernel_isa(kernel_isa_name(i));
      REQUIRE(!s.ok());
      CHECK(s.error().code == ErrorCode::unsupported);
    }
  }
  REQUIRE(set_kernel_isa("auto").ok());
  CHECK(kernel_isa() == best_kernel_isa());
  MESSAGE("kernels: " << std::string(kernel_isa_name(kernel_isa())));
}

TEST_CASE("matvec: every ISA equals the scalar reference, for every type and many shapes") {
  IsaGuard guard;
  std::mt19937 rng(42);
  ThreadPool pool(2);
  for (GgmlType t : engine_types()) {
    for (size_t cols : shapes_for(t)) {
      for (size_t rows : {size_t(1), size_t(5), size_t(37)}) {
        // A padded row stride (rows == 5): rows need not be packed back to back.
        auto m = random_matrix(t, rows, cols, rng, rows == 5 ? 8 : 0);
        auto x = gaussian(cols, rng);
        REQUIRE(set_kernel_isa("scalar").ok());
        std::vector<float> ref(rows);
        REQUIRE(matvec(m.view(), x.data(), ref.data(), nullptr).ok());
        for (size_t r = 0; r < rows; ++r) {
          const double mag = magnitude(m, r, x.data());
          const double tol = ggml_type_traits(uint32_t(t))->dot_type == GgmlType::F32
                                 ? kReorderTolerance
                                 : kActivationQuantTolerance;
          INFO(ggml_type_traits(uint32_t(t))->name << " cols " << cols << " row " << r);
          REQUIRE(std::fabs(ref[r] - exact_dot(m, r, x.data())) <= tol * mag + 1e-30);
        }
        for (KernelIsa isa : isas()) {
          REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
          std::vector<float> y(rows, NAN);
          REQUIRE(matvec(m.view(), x.data(), y.data(), &pool).ok());
          for (size_t r = 0; r < rows; ++r) {
            INFO(kernel_isa_name(isa) << " " << ggml_type_traits(uint32_t(t))->name << " cols "
                                      << cols << " rows " << rows << " row " << r);
            REQUIRE(std::fabs(y[r] - ref[r]) <= kReorderTolerance * magnitude(m, r, x.data()));
          }
        }
      }
    }
  }
}

// The dot kernels of Q5_K, Q3_K, Q2_K and IQ4_XS on blocks of random bytes (every bit pattern
// of levels, scale codes and high bits, not only what the quantizers write), with Q8_K rows of
// random bytes: the SIMD kernels compute the reference's integer sums, so results agree to float
// rounding; and the reference equals the product of the dequantized rows.
TEST_CASE("Q5_K, Q3_K, Q2_K, IQ4_XS dot kernels on random blocks: every ISA equals the reference") {
  using namespace modelswarm::kernels;
  struct Kernels {
    GgmlType type;
    size_t d_at;  // offsets of the fp16 super-scales (dmin: -1 where there is none)
    int dmin_at;
    float (*scalar)(size_t, const void*, const void*);
    float (*avx2)(size_t, const void*, const void*);
    float (*avx512)(size_t, const void*, const void*);
  };
  const Kernels kernels[] = {
      {GgmlType::Q5_K, 0, 2, dot_q5_k_q8_k_scalar, dot_q5_k_q8_k_avx2, dot_q5_k_q8_k_avx512},
      {GgmlType::Q3_K, 108, -1, dot_q3_k_q8_k_scalar, dot_q3_k_q8_k_avx2, dot_q3_k_q8_k_avx512},
      {GgmlType::Q2_K, 80, 82, dot_q2_k_q8_k_scalar, dot_q2_k_q8_k_avx2, dot_q2_k_q8_k_avx512},
      {GgmlType::IQ4_XS, 0, -1, dot_iq4_xs_q8_k_scalar, dot_iq4_xs_q8_k_avx2, dot_iq4_xs_q8_k_avx512},
  };
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  for (const Kernels& k : kernels) {
    const size_t block = ggml_type_traits(uint32_t(k.type))->block_bytes;
    for (size_t cols : {size_t(256), size_t(768), size_t(4096)}) {
      INFO(ggml_type_name(k.type) << " cols " << cols);
      const size_t nb = cols / 256;
      std::vector<uint8_t> w(nb * block);
      std::vector<BlockQ8_K> x(nb);
      for (auto& v : w) v = uint8_t(rng());
      for (size_t b = 0; b < nb; ++b) {
        const uint16_t d = fp32_to_fp16(scale(rng)), dmin = fp32_to_fp16(scale(rng));
        std::memcpy(&w[b * block + k.d_at], &d, 2);
        if (k.dmin_at >= 0) std::memcpy(&w[b * block + size_t(k.dmin_at)], &dmin, 2);
        x[b].d = scale(rng);
        for (int j = 0; j < 256; ++j) x[b].qs[j] = int8_t(int(rng() % 255) - 127);
        for (int g = 0; g < 16; ++g) {
          int sum = 0;
          for (int j = 0; j < 16; ++j) sum += x[b].qs[16 * g + j];
          x[b].bsums[g] = int16_t(sum);
        }
      }
      const float ref = k.scalar(cols, w.data(), x.data());
      std::vector<float> wf(cols), xf(cols);
      REQUIRE(dequantize_row(k.type, w.data(), wf.data(), cols).ok());
      REQUIRE(dequantize_row(GgmlType::Q8_K, x.data(), xf.data(), cols).ok());
      double exact = 0, mag = 0;
      for (size_t i = 0; i < cols; ++i) {
        exact += double(wf[i]) * xf[i];
        mag += std::fabs(double(wf[i]) * xf[i]);
      }
      CHECK(std::fabs(ref - exact) <= kReorderTolerance * mag);
      // Equal integer sums; the float scaling may differ by FMA contraction only.
      const double tol = 1e-6 * mag;
      if (kernel_isa_supported(KernelIsa::avx2)) CHECK(std::fabs(k.avx2(cols, w.data(), x.data()) - ref) <= tol);
      if (kernel_isa_supported(KernelIsa::avx512))
        CHECK(std::fabs(k.avx512(cols, w.data(), x.data()) - ref) <= tol);
    }
  }
}

TEST_CASE("matmul equals matvec per token on every ISA, with strides and odd sizes") {
  IsaGuard guard;
  std::mt19937 rng(7);
  ThreadPool pool(2);
  const std::vector<size_t> tokens =
      sanitized() ? std::vector<size_t>{1, 5, 17} : std::vector<size_t>{1, 2, 3, 5, 8, 17, 40};
  for (GgmlType t : engine_types()) {
    // A few blocks (one partial packed group), and many (whole groups and a partial one).
    for (size_t cols : {shapes_for(t)[3], shapes_for(t).back()}) {
      for (size_t rows : {size_t(3), size_t(21), size_t(67)}) {
        auto m = random_matrix(t, rows, cols, rng);
        for (size_t n : tokens) {
          const size_t xs = cols + 3, ys = rows + 2;
          auto x = gaussian(n * xs, rng);
          REQUIRE(set_kernel_isa("scalar").ok());
          std::vector<float> ref(n * rows);
          for (size_t i = 0; i < n; ++i)
            REQUIRE(matvec(m.view(), x.data() + i * xs, ref.data() + i * rows, nullptr).ok());
          for (KernelIsa isa : isas()) {
            REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
            std::vector<float> y(n * ys, -7.f);
            REQUIRE(matmul(m.view(), x.data(), n, xs, y.data(), ys, &pool).ok());
            for (size_t i = 0; i < n; ++i) {
              for (size_t r = 0; r < rows; ++r) {
                INFO(kernel_isa_name(isa) << " " << ggml_type_traits(uint32_t(t))->name << " rows "
                                          << rows << " tokens " << n);
                REQUIRE(std::fabs(y[i * ys + r] - ref[i * rows + r]) <=
                        kReorderTolerance * magnitude(m, r, x.data() + i * xs));
              }
              for (size_t r = rows; r < ys; ++r) REQUIRE(y[i * ys + r] == -7.f);  // untouched
            }
          }
        }
      }
    }
  }
}

TEST_CASE("matvec_multi equals one matvec per matrix, shared or mixed types") {
  IsaGuard guard;
  std::mt19937 rng(11);
  ThreadPool pool(2);
  const size_t cols = 512;
  auto a = random_matrix(GgmlType::Q4_0, 37, cols, rng);
  auto b = random_matrix(GgmlType::Q4_0, 5, cols, rng);
  auto c = random_matrix(GgmlType::Q4_0, 64, cols, rng);
  auto k = random_matrix(GgmlType::Q4_K, 21, cols, rng);
  auto x = gaussian(cols, rng);
  for (KernelIsa isa : isas()) {
    REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
    for (bool mixed : {false, true}) {
      const Matrix* ms[3] = {&a, mixed ? &k : &b, &c};
      std::vector<MatrixView> views;
      std::vector<std::vector<float>> ref(3), got(3);
      std::vector<float*> outs;
      for (int i = 0; i < 3; ++i) {
        views.push_back(ms[i]->view());
        ref[i].assign(ms[i]->rows, NAN);
        got[i].assign(ms[i]->rows, NAN);
        outs.push_back(got[i].data());
        REQUIRE(matvec(views.back(), x.data(), ref[i].data(), &pool).ok());
      }
      REQUIRE(matvec_multi(views, x.data(), outs, &pool).ok());
      for (int i = 0; i < 3; ++i) {
        INFO(kernel_isa_name(isa) << " mixed " << mixed << " matrix " << i);
        CHECK(got[i] == ref[i]);  // same kernels, same activations: bit for bit
      }
    }
  }
  std::vector<MatrixView> one = {a.view()};
  std::vector<float*> none;
  CHECK(matvec_multi(one, x.data(), none, nullptr).error().code == ErrorCode::invalid_argument);
}

// A Q3_K_M layer runs packed GEMMs of several formats (Q3_K, Q4_K, Q5_K, Q6_K: three lane
// layouts) one after another on the same activations, and other files mix in Q8_0 (row dots on
// AVX2): nothing converted or laid out for one type may be reused for the next.
TEST_CASE("matmul: matrices of different types in turn on one input equal scalar on every ISA") {
  IsaGuard guard;
  std::mt19937 rng(13);
  ThreadPool pool(2);
  const size_t cols = 512, n = 3;
  std::vector<Matrix> ms;
  for (GgmlType t : {GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q4_K,
                     GgmlType::Q6_K, GgmlType::Q3_K, GgmlType::Q4_0, GgmlType::Q8_0,
                     GgmlType::Q4_K, GgmlType::Q2_K, GgmlType::Q5_K})
    ms.push_back(random_matrix(t, 37, cols, rng));
  const auto x = gaussian(n * cols, rng);
  REQUIRE(set_kernel_isa("scalar").ok());
  std::vector<std::vector<float>> ref;
  for (const Matrix& m : ms) {
    ref.emplace_back(n * m.rows);
    REQUIRE(matmul(m.view(), x.data(), n, cols, ref.back().data(), m.rows, &pool).ok());
  }
  for (KernelIsa isa : isas()) {
    REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
    for (size_t i = 0; i < ms.size(); ++i) {
      std::vector<float> y(n * ms[i].rows, NAN);
      REQUIRE(matmul(ms[i].view(), x.data(), n, cols, y.data(), ms[i].rows, &pool).ok());
      for (size_t t = 0; t < n; ++t)
        for (size_t r = 0; r < ms[i].rows; ++r) {
          INFO(std::string(kernel_isa_name(isa)) << " matrix " << i << " token " << t
                                                  << " row " << r);
          CHECK(std::fabs(y[t * ms[i].rows + r] - ref[i][t * ms[i].rows + r]) <=
                kReorderTolerance * magnitude(ms[i], r, x.data() + t * cols));
        }
    }
  }
}

// The packed GEMM's weight formats (kernels/gemm_packed.hpp), each with its portable packer and
// where its fp16 scales sit in a block (dmin or m: -1 where there is none), so that blocks of
// random or extreme bytes keep finite scales.
namespace packed {
using namespace modelswarm::kernels;
struct Format {
  GgmlType type;
  size_t d_at;
  int dmin_at;
  PackWeightsFn pack;
};
const Format kFormats[] = {
    {GgmlType::Q4_0, 0, -1, pack_weights_q4_0},     {GgmlType::Q4_1, 0, 2, pack_weights_q4_1},
    {GgmlType::Q5_0, 0, -1, pack_weights_q5_0},     {GgmlType::Q5_1, 0, 2, pack_weights_q5_1},
    {GgmlType::IQ4_NL, 0, -1, pack_weights_iq4_nl}, {GgmlType::Q8_0, 0, -1, pack_weights_q8_0},
    {GgmlType::Q2_K, 80, 82, pack_weights_q2_k},    {GgmlType::Q3_K, 108, -1, pack_weights_q3_k},
    {GgmlType::Q4_K, 0, 2, pack_weights_q4_k},      {GgmlType::Q5_K, 0, 2, pack_weights_q5_k},
    {GgmlType::Q6_K, 208, -1, pack_weights_q6_k},   {GgmlType::IQ4_XS, 0, -1, pack_weights_iq4_xs},
};

// A row of `cols` elements: every byte `fill`, or random when fill < 0; scales in ±0.05.
std::vector<uint8_t> row_of(const Format& fm, size_t cols, int fill, std::mt19937& rng) {
  const GgmlTypeTraits t = *ggml_type_traits(uint32_t(fm.type));
  std::vector<uint8_t> row(*ggml_row_bytes(fm.type, cols));
  for (auto& v : row) v = uint8_t(fill < 0 ? int(rng()) : fill);
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  for (size_t b = 0; b < cols / t.block_elements; ++b) {
    uint8_t* block = row.data() + b * t.block_bytes;
    const uint16_t d = fp32_to_fp16(scale(rng)), dmin = fp32_to_fp16(scale(rng));
    std::memcpy(block + fm.d_at, &d, 2);
    if (fm.dmin_at >= 0) std::memcpy(block + fm.dmin_at, &dmin, 2);
  }
  return row;
}

Matrix matrix_of(const Format& fm, size_t rows, size_t cols, int fill, std::mt19937& rng) {
  Matrix m{fm.type, rows, cols, *ggml_row_bytes(fm.type, cols), {}, std::vector<float>(rows * cols)};
  for (size_t r = 0; r < rows; ++r) {
    const auto row = row_of(fm, cols, fill, rng);
    m.data.insert(m.data.end(), row.begin(), row.end());
    REQUIRE(dequantize_row(fm.type, row.data(), m.dequant.data() + r * cols, cols).ok());
  }
  return m;
}
}  // namespace packed

// Every packer on every bit pattern: lane j of group g holds elements B·(16g + j).. of the row,
// and (level - offset)·scale - min gives back the dequantized weight; levels stay within the
// format's max_level (which the AVX2 tile's exactness rests on) and empty lanes are zero. The
// portable packers run on any machine, so formats whose GEMM is AVX-512 only are checked here
// too; an ISA's own packer (the AVX-512 gathers) must write the same bytes.
TEST_CASE("packed GEMM: every packer's levels, scales and mins give back the weights") {
  using namespace modelswarm::kernels;
  std::mt19937 rng(5);
  for (const packed::Format& fm : packed::kFormats) {
    const TypeKernels& tk = *type_kernels(fm.type);
    REQUIRE(tk.lanes.lane_elements != 0);
    // A partial last group only; whole groups and a partial one.
    for (size_t cols : {shapes_for(fm.type)[3], shapes_for(fm.type).back()})
      for (int fill : {-1, 0xff, 0x00}) {
        INFO(ggml_type_name(fm.type) << " cols " << cols << " fill " << fill);
        const auto row = packed::row_of(fm, cols, fill, rng);
        std::vector<float> want(cols);
        REQUIRE(dequantize_row(fm.type, row.data(), want.data(), cols).ok());
        const PackedFormat f = packed_format(fm.type, cols);
        const size_t B = size_t(f.lane_elements);
        std::vector<uint8_t> out(f.groups * f.weight_group_bytes(), 0xAB);
        fm.pack(f, row.data(), cols, out.data());
        for (size_t lane = 0; lane < 16 * f.groups; ++lane) {
          const uint8_t* g = out.data() + (lane / 16) * f.weight_group_bytes();
          const float* scale = reinterpret_cast<const float*>(g + 16 * B);
          const float scale_l = scale[lane % 16];
          const float min_l = f.has_min ? scale[16 + lane % 16] : 0.f;
          for (size_t e = 0; e < B; ++e) {
            const int level = g[64 * (e / 4) + 4 * (lane % 16) + e % 4];
            if (lane * B >= cols) {
              REQUIRE(level == 0);
              continue;
            }
            REQUIRE(level <= f.max_level);
            const float v = float(level - f.offset) * scale_l - min_l;
            const float w = want[lane * B + e];
            INFO("lane " << lane << " element " << e << " level " << level);
            const float terms = std::fabs(float(level - f.offset) * scale_l) + std::fabs(min_l);
            REQUIRE(std::fabs(v - w) <= 1e-6f * terms);
          }
          if (lane * B >= cols) {
            CHECK(scale_l == 0.f);
            CHECK(min_l == 0.f);
          }
        }
        for (KernelIsa isa : isas()) {
          const PackWeightsFn own = tk.isa[size_t(isa)].gemm_pack;
          if (!own) continue;
          std::vector<uint8_t> mine(out.size(), 0xCD);
          own(f, row.data(), cols, mine.data());
          CHECK_MESSAGE(mine == out, kernel_isa_name(isa));
        }
      }
  }
}

// Which path matmul takes: every format above has a GEMM on AVX-512, and on AVX2 wherever its
// levels fit the int16 pair sums; only the 8-bit ones (Q8_0, the IQ4 codebooks + 128) do not.
TEST_CASE("packed GEMM: every packed format has a packer on each ISA its levels allow") {
  using namespace modelswarm::kernels;
  for (const packed::Format& fm : packed::kFormats) {
    INFO(ggml_type_name(fm.type));
    const TypeKernels& tk = *type_kernels(fm.type);
    CHECK(bool(tk.isa[size_t(KernelIsa::avx512)].gemm_pack));
    CHECK(bool(tk.isa[size_t(KernelIsa::avx2)].gemm_pack) ==
          int16_pair_sums_fit(tk.lanes.max_level, 2));
  }
}

// matmul on weights of random and of extreme bytes (every level at its maximum, largest scale
// codes) with activations at full scale of one sign: what would overflow the AVX2 tile's int16
// pair sums, had it added too many, or saturate vpmaddubsw. Every ISA equals scalar matvec.
TEST_CASE("packed GEMM: random and extreme blocks equal the row dots on every ISA") {
  IsaGuard guard;
  std::mt19937 rng(17);
  ThreadPool pool(2);
  const size_t rows = 13, n = 5;
  for (const packed::Format& fm : packed::kFormats) {
    const size_t cols = shapes_for(fm.type)[4];
    for (int fill : {-1, 0xff}) {
      const Matrix m = packed::matrix_of(fm, rows, cols, fill, rng);
      for (float sign : {1.f, -1.f}) {
        const std::vector<float> x(n * cols, sign);
        REQUIRE(set_kernel_isa("scalar").ok());
        std::vector<float> ref(n * rows);
        for (size_t t = 0; t < n; ++t)
          REQUIRE(matvec(m.view(), x.data() + t * cols, ref.data() + t * rows, nullptr).ok());
        for (KernelIsa isa : isas()) {
          REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
          std::vector<float> y(n * rows, NAN);
          REQUIRE(matmul(m.view(), x.data(), n, cols, y.data(), rows, &pool).ok());
          for (size_t t = 0; t < n; ++t)
            for (size_t r = 0; r < rows; ++r) {
              INFO(kernel_isa_name(isa) << " " << ggml_type_name(fm.type) << " fill " << fill
                                        << " sign " << sign << " token " << t << " row " << r);
              REQUIRE(std::fabs(y[t * rows + r] - ref[t * rows + r]) <=
                      kReorderTolerance * magnitude(m, r, x.data() + t * cols));
            }
        }
      }
    }
  }
}

TEST_CASE("matvec and matmul refuse malformed matrices") {
  std::vector<uint8_t> buf(4096);
  std::vector<float> x(256), y(256);
  MatrixView w{GgmlType::TQ1_0, buf.data(), 2, 256, 54};
  auto s = matvec(w, x.data(), y.data(), nullptr);
  REQUIRE(!s.ok());
  CHECK(s.error().code == ErrorCode::unsupported);
  CHECK(s.error().message.find("TQ1_0") != std::string::npos);
  w = {GgmlType::Q4_0, buf.data(), 2, 48, 27};
  CHECK(matvec(w, x.data(), y.data(), nullptr).error().code == ErrorCode::invalid_argument);
  w = {GgmlType::Q4_K, buf.data(), 2, 256, 100};
  auto st = matmul(w, x.data(), 1, 256, y.data(), 2, nullptr);
  REQUIRE(!st.ok());
  CHECK(st.error().message.find("stride") != std::string::npos);
  std::vector<float> f32(64);
  w = {GgmlType::F32, reinterpret_cast<uint8_t*>(f32.data()) + 2, 2, 8, 32};
  auto mis = matvec(w, x.data(), y.data(), nullptr);
  REQUIRE(!mis.ok());
  CHECK(mis.error().message.find("aligned") != std::string::npos);
  CHECK(!matmul_supported(GgmlType::IQ2_XXS));
  CHECK(matmul_supported(GgmlType::Q6_K));
}

TEST_CASE("vector helpers") {
  IsaGuard guard;
  std::mt19937 rng(3);
  for (size_t n : {1, 5, 16, 33, 100, 1000}) {
    auto a = gaussian(n, rng), b = gaussian(n, rng);
    double exact = 0, mag = 0;
    for (size_t i = 0; i < n; ++i) exact += double(a[i]) * b[i], mag += std::fabs(a[i] * b[i]);
    for (KernelIsa isa : isas()) {
      REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
      CHECK(std::fabs(dot_f32(a.data(), b.data(), n) - exact) <= kReorderTolerance * mag);
      auto y = b;
      axpy_f32(0.5f, a.data(), y.data(), n);
      for (size_t i = 0; i < n; ++i) CHECK(y[i] == doctest::Approx(b[i] + 0.5f * a[i]));
    }
    std::vector<float> w(n, 2.f), out(n);
    rmsnorm_f32(a.data(), w.data(), out.data(), n, 1e-6f);
    double ss = 0;
    for (float v : a) ss += double(v) * v;
    const double scale = 1.0 / std::sqrt(ss / n + 1e-6);
    for (size_t i = 0; i < n; ++i) CHECK(out[i] == doctest::Approx(a[i] * scale * 2).epsilon(1e-5));
    for (KernelIsa isa : isas()) {  // libm's exp on scalar, a polynomial on AVX2
      REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
      CAPTURE(kernel_isa_name(isa));
      auto sm = a;
      softmax_f32(sm.data(), n);
      double total = 0, denom = 0;
      for (float v : a) denom += std::exp(double(v));
      for (size_t i = 0; i < n; ++i) {
        CHECK(sm[i] == doctest::Approx(std::exp(double(a[i])) / denom).epsilon(1e-5));
        total += sm[i];
      }
      CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
      silu_mul_f32(a.data(), b.data(), out.data(), n);
      for (size_t i = 0; i < n; ++i)
        CHECK(out[i] == doctest::Approx(a[i] / (1 + std::exp(-double(a[i]))) * b[i]).epsilon(1e-5));
      gelu_mul_f32(a.data(), b.data(), out.data(), n);
      for (size_t i = 0; i < n; ++i) {
        const double x = a[i], g = 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
        CHECK(out[i] == doctest::Approx(g * b[i]).epsilon(1e-5));
      }
    }
    REQUIRE(set_kernel_isa("auto").ok());
  }
  // GELU's tanh form at fixed points (not the erf form: 0.8412 at 1, where erf gives 0.8413).
  const float x[4] = {-3.f, -1.f, 1.f, 2.f}, one[4] = {1, 1, 1, 1};
  float g[4];
  gelu_mul_f32(x, one, g, 4);
  CHECK(g[0] == doctest::Approx(-0.0036374).epsilon(1e-3));
  CHECK(g[1] == doctest::Approx(-0.1588080).epsilon(1e-5));
  CHECK(g[2] == doctest::Approx(0.8411920).epsilon(1e-5));
  CHECK(g[3] == doctest::Approx(1.9545977).epsilon(1e-5));
}

// Softmax of scores that differ by up to 1e30 (a masked position, a huge logit), and SiLU and
// GELU of inputs far past where e^x leaves the float range: every ISA, against double precision.
TEST_CASE("softmax, SiLU and GELU at the ends of the float range") {
  const std::vector<float> x = {0.0f, -1.0f, -20.0f, -80.0f, -87.5f, -100.0f, -1e30f,
                                -std::numeric_limits<float>::infinity(), 3.5f, 88.0f, -88.0f};
  for (KernelIsa isa : isas()) {
    REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
    CAPTURE(kernel_isa_name(isa));
    for (size_t n = 1; n <= x.size(); ++n) {
      std::vector<float> sm(x.begin(), x.begin() + n);
      softmax_f32(sm.data(), n);
      const double mx = *std::max_element(x.begin(), x.begin() + n);
      double denom = 0;
      for (size_t i = 0; i < n; ++i) denom += std::exp(double(x[i]) - mx);
      for (size_t i = 0; i < n; ++i) {
        CAPTURE(x[i]);
        CHECK(sm[i] == doctest::Approx(std::exp(double(x[i]) - mx) / denom).epsilon(1e-6));
      }
    }
    std::vector<float> g_in;  // activations are finite
    for (float v : x) if (std::isfinite(v)) g_in.push_back(v);
    std::vector<float> ones(g_in.size(), 1.0f), out(g_in.size());
    silu_mul_f32(g_in.data(), ones.data(), out.data(), g_in.size());
    for (size_t i = 0; i < g_in.size(); ++i) {
      CAPTURE(g_in[i]);
      const double g = g_in[i];
      const double want = g / (1 + std::exp(-g));
      CHECK(std::isfinite(out[i]));
      CHECK(out[i] == doctest::Approx(want).epsilon(1e-6));
    }
    gelu_mul_f32(g_in.data(), ones.data(), out.data(), g_in.size());
    for (size_t i = 0; i < g_in.size(); ++i) {
      CAPTURE(g_in[i]);
      const double g = g_in[i], u = std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g);
      CHECK(std::isfinite(out[i]));
      CHECK(out[i] == doctest::Approx(0.5 * g * (1 + std::tanh(u))).epsilon(1e-6));
    }
  }
  REQUIRE(set_kernel_isa("auto").ok());
}

TEST_CASE("thread pool: every index exactly once, for many sizes and grains") {
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (size_t n : {0, 1, 2, 15, 16, 17, 100, 1000, 4099}) {
      for (size_t grain : {1, 4, 16, 64}) {
        std::vector<std::atomic<int>> hits(n);
        pool.parallel_for(n, grain, [&](size_t b, size_t e) {
          REQUIRE(b < e);
          CHECK((b % grain) == 0);
          for (size_t i = b; i < e; ++i) hits[i].fetch_add(1);
        });
        for (size_t i = 0; i < n; ++i) REQUIRE(hits[i].load() == 1);
      }
    }
  }
}

TEST_CASE("thread pool: many short calls in a row, on all threads") {
  ThreadPool pool(2);
  const int calls = sanitized() ? 2000 : 20000;
  std::vector<long> out(64);
  long expected = 0;
  for (int c = 0; c < calls; ++c) {
    pool.parallel_for(out.size(), 1, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) out[i] += long(i) + c;
    });
    expected += c;
  }
  for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == long(i) * calls + expected);
}

TEST_CASE("thread pool: chunks run on every thread at the same time") {
  for (unsigned threads : {2u, 3u}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 20; ++round) {
      // Each chunk waits (bounded) until all threads hold one: only true parallelism passes.
      std::atomic<unsigned> arrived{0};
      std::atomic<bool> all_met{true};
      pool.parallel_for(threads, 1, [&](size_t, size_t) {
        arrived.fetch_add(1);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (arrived.load() < threads) {
          if (std::chrono::steady_clock::now() > deadline) {
            all_met = false;
            return;
          }
          std::this_thread::yield();
        }
      });
      REQUIRE(all_met.load());
    }
  }
}

TEST_CASE("microbenchmarks report positive, finite figures for every ISA") {
  IsaGuard guard;
  ThreadPool pool(2);
  // Only that the figures are figures: how fast this machine is belongs to the benchmarks
  // (scripts/bench_kernels.sh prints them), not to a pass/fail on a shared CI host.
  auto bw = measure_memory_bandwidth(pool, size_t(8) << 20, 0.01);
  REQUIRE(bw.ok());
  CHECK(std::isfinite(bw->wall));
  CHECK(bw->wall > 0);
  // Per-thread CPU time never exceeds wall time, so the per-CPU-second rate cannot be far below
  // the wall rate, however loaded the machine.
  CHECK(bw->cpu >= bw->wall * 0.5);
  for (KernelIsa isa : isas()) {
    REQUIRE(set_kernel_isa(kernel_isa_name(isa)).ok());
    auto peak = measure_peak_int8_ops(pool, isa, 0.01);
    REQUIRE(peak.ok());
    CHECK(std::isfinite(peak->wall));
    CHECK(peak->wall > 0);
    KernelBenchOptions o;
    o.rows = 64, o.cols = 512, o.prefill_tokens = 5, o.seconds = 0.01, o.memory_bytes = 8 << 20;
    auto r = run_kernel_bench(o, pool);
    REQUIRE(r.ok());
    CHECK(r->isa == kernel_isa_name(isa));
    CHECK(r->matrix_bytes == 64 * 18 * 16);
    for (Rate x : {r->matvec_bytes, r->matmul_int8_ops, r->matvec_bandwidth_share(),
                   r->matmul_peak_share()}) {
      CHECK(std::isfinite(x.wall));
      CHECK(x.wall > 0);
      CHECK(std::isfinite(x.cpu));
    }
  }
  KernelBenchOptions bad;
  bad.type = GgmlType::TQ1_0;
  CHECK(run_kernel_bench(bad, pool).error().code == ErrorCode::unsupported);
}
