#include <algorithm>
#include <random>
#include <vector>

#include "kernels/bench_timer.hpp"
#include "kernels/kernel_bench.hpp"
#include "modelswarm/quant.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

namespace {
// A matrix of valid blocks: quantized random rows, repeated to fill `rows` cheaply.
Result<std::vector<uint8_t>> make_matrix(GgmlType type, size_t rows, size_t cols) {
  const auto row_bytes = ggml_row_bytes(type, cols);
  if (!row_bytes) return Error::invalid_argument("kernel bench: bad matrix shape");
  std::vector<uint8_t> data(*row_bytes * rows);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.f, 0.05f);
  std::vector<float> src(cols);
  const size_t distinct = std::min<size_t>(rows, 64);
  for (size_t r = 0; r < distinct; ++r) {
    for (auto& v : src) v = dist(rng);
    MS_TRY(quantize_row(type, src.data(), data.data() + r * *row_bytes, cols));
  }
  for (size_t r = distinct; r < rows; ++r)
    std::copy_n(data.data() + (r % distinct) * *row_bytes, *row_bytes, data.data() + r * *row_bytes);
  return data;
}
}  // namespace

Result<KernelBenchReport> run_kernel_bench(const KernelBenchOptions& o, ThreadPool& pool) {
  if (!matmul_supported(o.type)) return Error::unsupported("kernel bench: unsupported weight type");
  KernelBenchReport r;
  r.isa = kernel_isa_name(kernel_isa());
  r.threads = pool.size();
  MS_ASSIGN_OR_RETURN(r.memory_bytes, measure_memory_bandwidth(pool, o.memory_bytes, o.seconds));
  MS_ASSIGN_OR_RETURN(r.peak_int8_ops, measure_peak_int8_ops(pool, kernel_isa(), o.seconds / 2));

  MS_ASSIGN_OR_RETURN(auto one, make_matrix(o.type, o.rows, o.cols));
  const size_t row_bytes = *ggml_row_bytes(o.type, o.cols);
  r.matrix_bytes = one.size();
  // As many bytes of copies as the bandwidth measurement streams: each call then reads its
  // weights from memory, and the two figures compare like with like.
  const size_t stream = o.memory_bytes ? o.memory_bytes : bench_stream_bytes();
  const size_t copies = std::max<size_t>(2, (stream + one.size() - 1) / one.size());
  std::vector<uint8_t> all(one.size() * copies);
  for (size_t c = 0; c < copies; ++c) std::copy(one.begin(), one.end(), all.begin() + c * one.size());
  std::vector<float> x(o.cols * o.prefill_tokens), y(o.rows * o.prefill_tokens);
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (auto& v : x) v = dist(rng);
  auto view = [&](size_t c) {
    return MatrixView{o.type, all.data() + c * one.size(), o.rows, o.cols, row_bytes};
  };

  Status st;
  for (size_t c = 0; c < copies && st.ok(); ++c) st = matvec(view(c), x.data(), y.data(), &pool);
  kernels::BestPass decode(pool.size());
  while (st.ok() && !decode.done(o.seconds)) {
    decode.pass([&] {
      for (size_t c = 0; c < copies && st.ok(); ++c) st = matvec(view(c), x.data(), y.data(), &pool);
    });
  }
  MS_TRY(st);
  r.matvec_bytes = decode.rate(double(one.size() * copies));

  kernels::BestPass prefill(pool.size());
  for (size_t i = 0; st.ok() && !prefill.done(o.seconds); ++i) {
    prefill.pass([&] {
      st = matmul(view(i % copies), x.data(), o.prefill_tokens, o.cols, y.data(), o.rows, &pool);
    });
  }
  MS_TRY(st);
  r.matmul_int8_ops = prefill.rate(2.0 * double(o.prefill_tokens) * double(o.rows) * double(o.cols));
  return r;
}

}  // namespace modelswarm
