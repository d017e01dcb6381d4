#include <algorithm>

#include "kernels/activations.hpp"
#include "kernels/type_kernels.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

using namespace kernels;

namespace {
// Rows per tile: their weights (a few tens of KB) stay in L1/L2 while every token passes.
constexpr size_t kRowTile = 16;

template <class F>
void parallel(ThreadPool* pool, size_t n, size_t grain, F&& f) {
  if (pool) {
    pool->parallel_for(n, grain, f);
  } else {
    f(0, n);
  }
}
}  // namespace

Status matmul(const MatrixView& w, const float* x, size_t m, size_t x_stride, float* y,
              size_t y_stride, ThreadPool* pool) {
  MS_TRY(check_matrix(w, "matmul"));
  if (m > 1 && (x_stride < w.cols || y_stride < w.rows))
    return Error::invalid_argument("matmul: a row stride is shorter than its row");
  if (w.rows == 0 || m == 0) return Status::success();
  const KernelTable& t = active_table();
  // One token is a matrix-vector product: the row dots stream the weights better than packing.
  const PackWeightsFn pack = type_kernels(w.type)->isa[size_t(t.isa)].gemm_pack;
  if (m > 1 && t.gemm && pack) {
    t.gemm(packed_format(w.type, w.cols), pack, w, x, m, x_stride, y, y_stride, pool);
    return Status::success();
  }
  const DotPlan plan = plan_dot(t, w.type, w.cols);
  thread_local std::vector<uint8_t> buf;
  const uint8_t* xa = reinterpret_cast<const uint8_t*>(x);
  size_t xa_stride = x_stride * sizeof(float);
  if (plan.act_type != GgmlType::F32) {
    uint8_t* q = scratch(buf, plan.act_row_bytes * m);
    parallel(pool, m, 1, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i)
        plan.convert(x + i * x_stride, q + i * plan.act_row_bytes, w.cols);
    });
    xa = q;
    xa_stride = plan.act_row_bytes;
  }
  const auto* base = static_cast<const uint8_t*>(w.data);
  parallel(pool, w.rows, kRowTile, [&](size_t begin, size_t end) {
    for (size_t r0 = begin; r0 < end; r0 += kRowTile) {
      const size_t r1 = std::min(end, r0 + kRowTile);
      for (size_t i = 0; i < m; ++i)
        for (size_t r = r0; r < r1; ++r)
          y[i * y_stride + r] = plan.dot(w.cols, base + r * w.row_bytes, xa + i * xa_stride);
    }
  });
  return Status::success();
}

}  // namespace modelswarm
