// `modelswarm bench`: prefill and decode speed of a model, set against the limits measured on
// this machine in the same run (memory read bandwidth for decode, peak int8 rate for prefill).
// Every rate is given twice (bench_rate.hpp): per second of wall-clock time, and per
// second of process CPU time per thread (what the code achieves while it runs, which still
// holds when other processes compete for the cores).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "modelswarm/error.hpp"
#include "modelswarm/infer.hpp"
#include "modelswarm/bench_rate.hpp"

namespace modelswarm {

struct InferBenchOptions {
  uint32_t n_prompt = 128;     // tokens of the prefill batch
  uint32_t n_gen = 64;         // decode steps
  // Tokens in the context when decoding starts (0: just the prompt). Decode slows as the
  // context grows (attention reads the whole KV cache), so it is measured at a given depth too.
  uint32_t n_depth = 0;
  uint32_t n_threads = 0;      // 0: all hardware threads
  double limit_seconds = 1.0;  // time spent measuring the bandwidth
};

struct InferBenchReport {
  std::string isa;
  uint32_t threads = 0, n_prompt = 0, n_gen = 0, n_depth = 0;  // n_depth: context when decode starts
  Rate prefill_tokens;
  Rate decode_tokens;
  uint64_t weight_bytes_per_token = 0;  // Model::bytes_per_token
  Rate memory_bytes;                    // measured read bandwidth
  Rate decode_limit_tokens;             // memory_bytes / weight_bytes_per_token
  Rate decode_bandwidth_share;          // decode_tokens / decode_limit_tokens
  uint64_t int8_ops_per_token = 0;      // 2 x weights of the layer matrices
  Rate prefill_int8_ops;
  Rate peak_int8_ops;
  Rate prefill_peak_share;
};

// Runs the model once to page it in, then measures. Token ids are fixed (no sampling). Prefill
// starts from an empty context; decode starts with max(n_prompt, n_depth) tokens in it.
Result<InferBenchReport> run_infer_bench(std::shared_ptr<const Model> model, const InferBenchOptions& options);

}  // namespace modelswarm
