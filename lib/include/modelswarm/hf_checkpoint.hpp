// An HF-style checkpoint directory (config.json, one or many *.safetensors shards with
// model.safetensors.index.json, tokenizer.json) seen as the GGUF file llama.cpp's converter
// would make of it: llama.cpp tensor names, {arch}.* hyper-parameters and tokenizer.ggml.*
// metadata, and llama Q/K rows reordered for "normal" (adjacent-pair) RoPE. Supported: the
// llama family (LlamaForCausalLM, MistralForCausalLM) and qwen2 (Qwen2ForCausalLM).
//
// Tensor data is never read here: HfTensorReader converts it row range by row range, so a
// caller holds at most its own output plus a small buffer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/metadata.hpp"
#include "modelswarm/model_info.hpp"

namespace modelswarm {

enum class HfTensorRole {
  token_embd,  // model.embed_tokens.weight
  output,      // lm_head.weight
  vector,      // norms and biases: always F32
  matrix,      // every other 2-D weight
};

// One tensor as the GGUF holds it, and where its data comes from.
struct HfTensor {
  std::string gguf_name;      // "blk.0.attn_q.weight"
  HfTensorRole role = HfTensorRole::matrix;
  uint64_t rows = 1;          // row-major rows (1 for a vector)
  uint64_t cols = 0;          // elements per row (GGUF ne[0])
  // Index into HfCheckpoint::info.tensors, or -1 for a tensor computed by the converter
  // (rope_freqs.weight, whose values are in HfCheckpoint::rope_freqs).
  int64_t source = -1;
  // > 0: GGUF row r holds source row hf_source_row(r, permute_head_dim) (llama Q and K).
  uint64_t permute_head_dim = 0;
  // Added to every value: gemma3's RMSNorm multiplies by (1 + w) and HF stores w; GGUF stores
  // 1 + w, as llama.cpp's converter writes it, so that the engines multiply by the weight alone.
  float add = 0;

  // GGUF dims, innermost first.
  std::vector<uint64_t> gguf_dims() const {
    return rows == 1 && role == HfTensorRole::vector ? std::vector<uint64_t>{cols}
                                                     : std::vector<uint64_t>{cols, rows};
  }
};

// llama.cpp's converter stores each head's two rotary halves interleaved (rows 2j, 2j+1 pair
// up) where HF stores them one after the other (rows j, j + head_dim/2). The source row of
// GGUF row `r`.
inline uint64_t hf_source_row(uint64_t r, uint64_t head_dim) {
  const uint64_t head = r / head_dim, i = r % head_dim;
  return head * head_dim + (i % 2) * (head_dim / 2) + i / 2;
}

struct HfCheckpoint {
  std::filesystem::path dir;
  ModelInfo info;            // the safetensors shards
  std::string arch;          // GGUF architecture: "llama" or "qwen2"
  // general.architecture, general.name, {arch}.* and (when the tokenizer converted)
  // tokenizer.ggml.*, in the order a GGUF file gets them. No general.file_type.
  Metadata metadata;
  std::vector<HfTensor> tensors;  // GGUF order: token_embd, output_norm, output, rope_freqs, blocks
  bool has_output = false;        // false: output tied to token_embd
  std::vector<float> rope_freqs;  // llama3 rope scaling factors (rope_freqs.weight), or empty
  // Why tokenizer.json could not be converted ("" when it was). Only set when opened with
  // require_tokenizer = false; otherwise that is an error of open_hf_checkpoint.
  std::string tokenizer_error;

  const HfTensor* find(std::string_view gguf_name) const;
  uint64_t input_bytes() const;  // bytes of every source tensor
};

// True when `dir` is a directory holding config.json and at least one *.safetensors file.
bool is_hf_checkpoint_dir(const std::filesystem::path& dir);

// Reads config.json, the safetensors headers (read_model_info), and tokenizer.json (plus
// tokenizer_config.json when present). Errors: io; format (malformed JSON, shapes that
// disagree with config.json, a tensor no GGUF name exists for); unsupported (architecture,
// dtype other than F32/F16/BF16, rope scaling, tokenizer — the message says which).
Result<HfCheckpoint> open_hf_checkpoint(const std::filesystem::path& dir, bool require_tokenizer = true);

// tokenizer.json (+ tokenizer_config.json, config.json beside it when present) as GGUF
// tokenizer.ggml.* metadata, the way llama.cpp's converter writes it:
//   Metaspace / Prepend+Replace("▁") BPE with byte_fallback (Llama 2, Mistral) -> model "llama":
//     tokens, scores (merge rank: a token made by an earlier merge scores higher), token_type
//     (control for special added tokens, byte for <0xNN>, unknown, user_defined, normal);
//   byte-level BPE (GPT-2, Llama 3, Qwen2) -> model "gpt2": tokens, token_type, merges, and
//     pre = "llama-bpe" / "qwen2" / "gpt2" recognised from the pre-tokenizer's split pattern;
// then bos/eos/unknown/padding ids, add_bos_token / add_eos_token, chat_template.
// Errors: unsupported for any other tokenizer (Unigram, WordPiece, an unknown split pattern),
// naming the file and what was found.
Result<Metadata> hf_tokenizer_metadata(const std::filesystem::path& dir);

// The GGUF type a tensor gets when the file's type is `ftype` (a quantize_type_supported() one),
// as llama.cpp's quantizer chooses by default, from the type table: vectors stay F32; the output
// matrix (or token_embd when the output is tied to it) is ftype's output_type (Q6_K for
// Q4_0/Q4_K); a matrix whose row length is not a whole number of blocks falls back (K-quants to
// Q4_0, Q6_K to Q8_0, 32-element blocks to F16).
GgmlType hf_tensor_type(const HfTensor& t, GgmlType ftype, bool has_output);

// Source data of an opened checkpoint, memory-mapped read-only. Converts row ranges to any type
// quantize_row handles, applying the Q/K row permutation, on a number of threads.
class HfTensorReader {
 public:
  static Result<HfTensorReader> open(const HfCheckpoint& ckpt);
  HfTensorReader(HfTensorReader&&) noexcept;
  HfTensorReader& operator=(HfTensorReader&&) noexcept;
  ~HfTensorReader();

  // Writes GGUF rows [row0, row0 + n) of `t` as `type` into `dst` (n * ggml_row_bytes(type,
  // t.cols) bytes), using up to `threads` threads (0: all cores). REQUIRES: t belongs to the
  // checkpoint this reader was opened on.
  Status convert_rows(const HfTensor& t, GgmlType type, uint64_t row0, uint64_t n, void* dst,
                      unsigned threads = 0) const;
  // Lets the kernel drop the source pages of GGUF rows [row0, row0 + n) of `t` (default: all)
  // from this process (they stay in the page cache), so that resident memory does not grow
  // with the input. With permuted rows, only whole heads are released.
  void release(const HfTensor& t, uint64_t row0 = 0, uint64_t n = UINT64_MAX) const;

  struct Impl;

 private:
  explicit HfTensorReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// llama_ftype number of a file whose bulk weights are `ftype` (general.file_type; the type
// table's file_type).
uint32_t llama_file_type_of(GgmlType ftype);

}  // namespace modelswarm
