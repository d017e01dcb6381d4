// `modelswarm bench`: prefill and decode speed of a model, set against the limits measured on
// this machine in the same run (memory read bandwidth for decode, peak int8 rate for prefill).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "modelswarm/error.hpp"
#include "modelswarm/infer.hpp"

namespace modelswarm {

struct InferBenchOptions {
  uint32_t n_prompt = 128;  // tokens of the prefill batch
  uint32_t n_gen = 64;      // decode steps
  uint32_t n_threads = 0;   // 0: all hardware threads
  double limit_seconds = 1.0;  // time spent measuring bandwidth
};

struct InferBenchReport {
  std::string isa;
  uint32_t threads = 0, n_prompt = 0, n_gen = 0;
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
  uint64_t weight_bytes_per_token = 0;  // Model::bytes_per_token
  double memory_bytes_per_s = 0;        // measured read bandwidth
  double decode_limit_tokens_per_s = 0; // memory_bytes_per_s / weight_bytes_per_token
  double decode_bandwidth_share = 0;    // decode_tokens_per_s / decode_limit_tokens_per_s
  uint64_t int8_ops_per_token = 0;      // 2 x weights of the layer matrices
  double prefill_int8_ops_per_s = 0;
  double peak_int8_ops_per_s = 0;
  double prefill_peak_share = 0;
};

// Runs the model once to page it in, then measures. Token ids are fixed (no sampling).
Result<InferBenchReport> run_infer_bench(std::shared_ptr<const Model> model, const InferBenchOptions& options);

}  // namespace modelswarm
