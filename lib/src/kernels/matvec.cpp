#include "kernels/activations.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

using namespace kernels;

Status matvec(const MatrixView& w, const float* x, float* y, ThreadPool* pool) {
  MS_TRY(check_matrix(w, "matvec"));
  if (w.rows == 0) return Status::success();
  const DotPlan plan = plan_dot(active_table(), w.type, w.cols);
  const void* xa = x;
  if (plan.act_type != GgmlType::F32) {
    thread_local std::vector<uint8_t> buf;
    uint8_t* q = scratch(buf, plan.act_row_bytes);
    convert_activation(plan, x, w.cols, q);
    xa = q;
  }
  const auto* base = static_cast<const uint8_t*>(w.data);
  auto rows = [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) y[r] = plan.dot(w.cols, base + r * w.row_bytes, xa);
  };
  // Grain of 16 rows keeps each thread's output on whole cache lines.
  if (pool) {
    pool->parallel_for(w.rows, 16, rows);
  } else {
    rows(0, w.rows);
  }
  return Status::success();
}

}  // namespace modelswarm
