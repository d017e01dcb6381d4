#include <algorithm>

#include "kernels/activations.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

using namespace kernels;

namespace {
// Converts x once for `plan`, in per-thread scratch; returns what the dot kernels take.
const void* convert_once(const DotPlan& plan, const float* x, size_t cols) {
  if (plan.act_type == GgmlType::F32) return x;
  thread_local std::vector<uint8_t> buf;
  uint8_t* q = scratch(buf, plan.act_row_bytes);
  plan.convert(x, q, cols);
  return q;
}

template <class F>
void split_rows(ThreadPool* pool, size_t rows, F&& fn) {
  // Grain of 16 rows keeps each thread's output on whole cache lines.
  if (pool) {
    pool->parallel_for(rows, 16, fn);
  } else {
    fn(size_t(0), rows);
  }
}
}  // namespace

Status matvec(const MatrixView& w, const float* x, float* y, ThreadPool* pool) {
  MS_TRY(check_matrix(w, "matvec"));
  if (w.rows == 0) return Status::success();
  const DotPlan plan = plan_dot(active_table(), w.type, w.cols);
  const void* xa = convert_once(plan, x, w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data);
  split_rows(pool, w.rows, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) y[r] = plan.dot(w.cols, base + r * w.row_bytes, xa);
  });
  return Status::success();
}

Status matvec_multi(std::span<const MatrixView> w, const float* x, std::span<float* const> y,
                    ThreadPool* pool) {
  if (w.size() != y.size())
    return Error::invalid_argument("matvec_multi: " + std::to_string(w.size()) + " matrices but " +
                                   std::to_string(y.size()) + " outputs");
  size_t total = 0;
  bool shared = true;
  for (const MatrixView& m : w) {
    MS_TRY(check_matrix(m, "matvec"));
    total += m.rows;
    shared = shared && m.type == w[0].type && m.cols == w[0].cols;
  }
  if (!shared) {
    for (size_t i = 0; i < w.size(); ++i) MS_TRY(matvec(w[i], x, y[i], pool));
    return Status::success();
  }
  if (total == 0) return Status::success();
  const DotPlan plan = plan_dot(active_table(), w[0].type, w[0].cols);
  const void* xa = convert_once(plan, x, w[0].cols);
  // Rows are numbered across the matrices, one after another.
  split_rows(pool, total, [&](size_t begin, size_t end) {
    size_t first = 0;
    for (size_t i = 0; i < w.size() && begin < end; first += w[i].rows, ++i) {
      const size_t last = first + w[i].rows;
      if (begin >= last) continue;
      const auto* base = static_cast<const uint8_t*>(w[i].data);
      const size_t stop = std::min(end, last);
      for (size_t r = begin - first; r < stop - first; ++r)
        y[i][r] = plan.dot(w[i].cols, base + r * w[i].row_bytes, xa);
      begin = stop;
    }
  });
  return Status::success();
}

}  // namespace modelswarm
