// The ISA-independent part of the packed prefill GEMM: activation packing, the split of weight
// rows into panels across threads, and the panel loop (see gemm_packed.hpp).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/gemm_packed.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm::kernels {

namespace {
template <class F>
void run(ThreadPool* pool, size_t n, F&& fn) {
  if (pool) {
    pool->parallel_for(n, 1, fn);
  } else {
    fn(size_t(0), n);
  }
}

// The gathers of the next panel's packing would wait on memory: its rows are fetched while
// this panel computes.
void prefetch_rows(const uint8_t* first, size_t rows, size_t row_bytes) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t off = 0; off < row_bytes; off += 64)
      _mm_prefetch(reinterpret_cast<const char*>(first + r * row_bytes + off), _MM_HINT_T1);
}
}  // namespace

void gemm_packed(const PackedFormat& f, const GemmKernels& k, const MatrixView& w, const float* x,
                 size_t m, size_t x_stride, float* y, size_t y_stride, ThreadPool* pool) {
  const size_t tmp_bytes = *ggml_row_bytes(f.act_type, w.cols);
  const size_t a_row = f.groups * f.act_group_bytes();
  const size_t w_row = f.groups * f.weight_group_bytes();
  const size_t R = size_t(k.rows), C = size_t(k.cols);

  thread_local std::vector<uint8_t> acts;
  if (acts.size() < a_row * m) acts.resize(a_row * m);
  uint8_t* act = acts.data();
  run(pool, m, [&](size_t b, size_t e) {
    std::vector<uint8_t> tmp(tmp_bytes);
    for (size_t t = b; t < e; ++t)
      pack_activation_row(f, x + t * x_stride, w.cols, tmp.data(), act + t * a_row);
  });

  const size_t panels = (w.rows + R - 1) / R;
  const auto* base = static_cast<const uint8_t*>(w.data);
  run(pool, panels, [&](size_t b, size_t e) {
    thread_local std::vector<uint8_t> panel;
    if (panel.size() < R * w_row) panel.resize(R * w_row);
    for (size_t p = b; p < e; ++p) {
      const size_t r0 = p * R;
      const size_t valid = std::min(R, w.rows - r0);
      if (p + 1 < e) prefetch_rows(base + (r0 + R) * w.row_bytes, std::min(R, w.rows - r0 - R), w.row_bytes);
      for (size_t r = 0; r < R; ++r) {
        if (r < valid) {
          k.pack(f, base + (r0 + r) * w.row_bytes, w.cols, panel.data() + r * w_row);
        } else {
          std::memset(panel.data() + r * w_row, 0, w_row);
        }
      }
      for (size_t t = 0; t < m; t += C) {
        const int c = int(std::min(C, m - t));
        k.tile(f, c)(f, panel.data(), w_row, act + t * a_row, a_row, y + t * y_stride + r0,
                     y_stride, int(valid));
      }
    }
  });
}

}  // namespace modelswarm::kernels
