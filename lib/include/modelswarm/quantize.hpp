// HF checkpoint -> GGUF, llama.cpp-compatible (metadata, tokenizer, tensor names and layout),
// quantizing on every core while streaming: memory stays at a few output chunks whatever the
// model's size. The same input and options always give the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/hf_checkpoint.hpp"
#include "modelswarm/quant_mix.hpp"

namespace modelswarm {

struct QuantizeOptions {
  // File type: one that quantize_type_supported(); per-tensor types follow hf_tensor_type().
  GgmlType type = GgmlType::Q4_0;
  // Set: a llama.cpp mix (Q4_K_M...) instead, each tensor's type from quant_mix_tensor_type().
  std::optional<QuantMix> mix;
  unsigned threads = 0;  // 0: all cores
  std::string name;      // general.name; empty: the checkpoint directory's name
  // Called after each chunk with input bytes done and in total; return false to cancel.
  std::function<bool(uint64_t done, uint64_t total)> progress;
};

struct QuantizeStats {
  uint64_t input_bytes = 0;   // source tensor bytes read
  uint64_t output_bytes = 0;  // size of the GGUF file
  uint64_t tensors = 0;
  uint32_t file_type = 0;  // general.file_type written
  // Tensors written of each GGML type, indexed by type id.
  std::array<uint64_t, kGgmlTypeIdLimit> tensors_by_type{};
};

// True for the file types quantize accepts (the type table's `quantize` flag).
bool quantize_type_supported(GgmlType type);
// Their names, in id order, joined by `sep`.
std::string quantize_type_names(std::string_view sep = ", ");

// Writes `out` (atomically: a temporary name renamed into place on success). Errors: those of
// HfTensorReader::open and the writer (io), invalid_argument (type), interrupted (progress
// returned false; nothing is left behind).
Result<QuantizeStats> quantize_checkpoint(const HfCheckpoint& ckpt, const std::filesystem::path& out,
                                          const QuantizeOptions& options);

}  // namespace modelswarm
