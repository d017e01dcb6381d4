// Microbenchmarks of the machine and the kernels, for `modelswarm bench` (through
// infer_bench.hpp) and scripts/bench_kernels.sh (tests/tools/bench_kernels.cpp). The limits
// (memory read bandwidth, peak int8 dot-product rate) are measured in the same run as the
// kernels, so the ratios compare like with like. Internal: not part of the installed API.
#pragma once

#include <cstddef>
#include <string>

#include "modelswarm/bench_rate.hpp"
#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/kernels.hpp"

namespace modelswarm {

class ThreadPool;

// Streaming read of a buffer of `bytes` (0: 8× the last-level cache, at least 256 MiB) on every
// thread of `pool`; best pass of those that fit in `seconds`. Returns bytes per second.
Result<Rate> measure_memory_bandwidth(ThreadPool& pool, size_t bytes = 0, double seconds = 1.0);

// Peak int8 multiply-add rate of the cores for `isa`: a tight loop of independent vpdpbusd
// (avx512) or vpmaddubsw (avx2) on every thread of `pool`. Returns int8 operations per second,
// counting a multiply-add as 2 operations. Error if `isa` is not supported here.
Result<Rate> measure_peak_int8_ops(ThreadPool& pool, KernelIsa isa, double seconds = 0.5);

struct KernelBenchOptions {
  GgmlType type = GgmlType::Q4_0;
  size_t rows = 5632;           // TinyLlama's feed-forward matrix: 5632 x 2048
  size_t cols = 2048;
  size_t prefill_tokens = 128;  // m of the matmul measurement
  double seconds = 1.0;         // per measurement
  size_t memory_bytes = 0;      // bytes streamed by the bandwidth and decode measurements
                                // (0: bench_stream_bytes())
};

struct KernelBenchReport {
  std::string isa;   // the kernels measured (the active ISA)
  unsigned threads = 0;
  Rate memory_bytes;     // measure_memory_bandwidth
  Rate peak_int8_ops;    // measure_peak_int8_ops for the active ISA
  // matvec over copies of the matrix as large together as the bandwidth measurement's buffer,
  // so every call reads its weights from memory, as decode does: weight bytes per second.
  Rate matvec_bytes;
  Rate matmul_int8_ops;  // prefill: 2·m·rows·cols per second
  size_t matrix_bytes = 0;
  // matvec_bytes / memory_bytes and matmul_int8_ops / peak_int8_ops, on each basis.
  Rate matvec_bandwidth_share() const {
    return {matvec_bytes.wall / memory_bytes.wall, matvec_bytes.cpu / memory_bytes.cpu};
  }
  Rate matmul_peak_share() const {
    return {matmul_int8_ops.wall / peak_int8_ops.wall, matmul_int8_ops.cpu / peak_int8_ops.cpu};
  }
};

// Runs all of the above with the active kernels.
Result<KernelBenchReport> run_kernel_bench(const KernelBenchOptions& options, ThreadPool& pool);

// Bytes of the last-level cache (sysfs; 32 MiB when unknown).
size_t last_level_cache_bytes();

// What the bandwidth and decode measurements stream by default: 8× the last-level cache, and
// at least 256 MiB (a VM's threads may sit on several caches).
size_t bench_stream_bytes();

}  // namespace modelswarm
