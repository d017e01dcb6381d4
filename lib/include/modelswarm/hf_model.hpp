// Runs an HF checkpoint directory (config.json, safetensors shards, tokenizer.json) with the
// bundled engine, as if it were the GGUF `modelswarm quantize` makes of it: each weight matrix
// is converted straight from the memory-mapped shards into its final int4 buffer on all cores,
// one tensor at a time, so memory is the quantized weights plus small buffers — never a float
// copy of the model. Norms and biases stay F32; llama Q/K rows are reordered for the engine's
// RoPE; a tied output reuses the token embeddings.
#pragma once

#include <filesystem>
#include <memory>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/infer.hpp"

namespace modelswarm {

struct HfLoadOptions {
  // Weight types as `quantize --type` chooses them (hf_tensor_type): Q4_0 by default (Q6_K
  // output), Q4_K (Q4_0 where rows are not a multiple of 256), or Q8_0/F16/BF16/F32.
  GgmlType type = GgmlType::Q4_0;
  unsigned threads = 0;           // 0: all cores
  // false: an unsupported or missing tokenizer.json is not an error; the model then carries a
  // placeholder vocabulary whose token i reads "[i]", for runs given token ids.
  bool require_tokenizer = true;
};

// Errors: those of open_hf_checkpoint (io, format, unsupported — architecture, dtype,
// tokenizer), invalid_argument for a type the engine cannot run.
Result<std::shared_ptr<const Model>> load_hf_model(const std::filesystem::path& dir,
                                                   const HfLoadOptions& options = {});

// A GGUF file (load_model) or an HF checkpoint directory (load_hf_model).
Result<std::shared_ptr<const Model>> load_any_model(const std::filesystem::path& path,
                                                    const HfLoadOptions& options = {});

}  // namespace modelswarm
