// The inference engine: a model (weights memory-mapped from a GGUF file, never copied), a
// context (KV cache + forward pass), text generation and measurement. Numerics follow llama.cpp
// for the same file: RMSNorm with eps inside the square root, RoPE "normal" (adjacent pairs,
// llama) or NEOX (halves, qwen2), activations quantized to the weight's dot-product format,
// F16 KV cache, F16 attention products.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/sampler.hpp"
#include "modelswarm/tokenizer.hpp"

namespace modelswarm {

class Metadata;

enum class Architecture { llama, qwen2, qwen3, gemma3 };
enum class RopeMode {
  normal,  // rotate (x[2i], x[2i+1]); GGUF llama Q/K rows are permuted for this
  neox,    // rotate (x[i], x[i + n_rot/2])
};

// What sets the architectures apart, by their general.architecture name.
struct ArchitectureInfo {
  Architecture arch;
  const char* name;
  RopeMode rope;
  bool qkv_bias;  // attn_q/k/v.bias (qwen2)
  bool qk_norm;   // attn_q_norm/attn_k_norm: RMSNorm over each head of q and k before RoPE (qwen3)
  // gemma3: embeddings times sqrt(n_embd); post_attention_norm and post_ffw_norm on each block's
  // output before the residual add; GELU (tanh) instead of SiLU in the FFN; sliding-window
  // attention (attention.sliding_window) on all layers but every swa_pattern-th.
  bool gemma;
  uint32_t swa_pattern;  // 0: every layer global
};
// nullptr when the engine does not run `name`.
const ArchitectureInfo* find_architecture(std::string_view name);
const ArchitectureInfo& architecture_info(Architecture arch);
// "llama, qwen2, qwen3, gemma3", for messages.
std::string supported_architectures();

struct ModelConfig {
  Architecture arch = Architecture::llama;
  std::string arch_name;          // general.architecture
  uint32_t n_embd = 0;            // embedding_length
  uint32_t n_layer = 0;           // block_count
  uint32_t n_ff = 0;              // feed_forward_length
  uint32_t n_head = 0;            // attention.head_count
  uint32_t n_head_kv = 0;         // attention.head_count_kv (GQA: head h uses kv head h / (n_head / n_head_kv))
  uint32_t head_dim = 0;          // attention.key_length (default n_embd / n_head)
  uint32_t n_rot = 0;             // rope.dimension_count (default head_dim)
  uint32_t n_vocab = 0;           // rows of token_embd
  uint32_t n_ctx_train = 0;       // context_length
  float rms_eps = 1e-5f;          // attention.layer_norm_rms_epsilon
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;   // 1 / rope.scaling.factor for linear scaling
  RopeMode rope_mode = RopeMode::normal;
  float attn_scale = 0;           // scores times this; 0: 1/sqrt(head_dim)
  // Sliding-window attention (gemma3): a local layer's token at p sees positions
  // p - n_swa + 1 .. p, with RoPE of its own base and no scaling.
  uint32_t n_swa = 0;             // attention.sliding_window; 0: every layer global
  uint32_t swa_pattern = 0;       // layer il is global when il % swa_pattern == swa_pattern - 1
  float rope_freq_base_swa = 10000.0f;
};

// Whether layer `il` attends through the sliding window.
inline bool layer_is_local(const ModelConfig& c, uint32_t il) {
  return c.n_swa != 0 && c.swa_pattern != 0 && il % c.swa_pattern != c.swa_pattern - 1;
}

// A weight as stored: `rows` rows of `cols` elements of `type`, each row `row_bytes` long,
// rows contiguous. Vectors (norms, biases) have rows == 1. data == nullptr: absent.
struct WeightTensor {
  std::string name;
  GgmlType type = GgmlType::F32;
  const void* data = nullptr;
  uint64_t rows = 0;
  uint64_t cols = 0;
  uint64_t row_bytes = 0;

  bool present() const { return data != nullptr; }
  uint64_t bytes() const { return rows * row_bytes; }
};

struct LayerWeights {
  WeightTensor attn_norm, wq, wk, wv, wo, ffn_norm, ffn_gate, ffn_up, ffn_down;
  WeightTensor bq, bk, bv;          // qwen2 only
  WeightTensor q_norm, k_norm;      // qwen3, gemma3: head_dim weights shared by every head
  WeightTensor post_attn_norm, post_ffn_norm;  // gemma3 only
};

struct ModelWeights {
  WeightTensor token_embd, output_norm, output;  // output == token_embd when tied
  std::vector<LayerWeights> layers;
  WeightTensor rope_freqs;                       // llama3-style per-pair frequency factors
  bool tied_embeddings = false;
};

// A loaded model. Loaders for other formats (safetensors, quantized at load time) build the same
// object: `storage` keeps whatever memory the WeightTensor pointers point into alive.
class Model {
 public:
  Model(ModelConfig config, ModelWeights weights, Tokenizer tokenizer,
        std::shared_ptr<const void> storage, std::string source);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const std::string& source() const { return source_; }  // file name, for messages

  uint64_t weight_bytes() const;     // every weight tensor, once
  // Weight bytes one decode step reads: every matrix and vector once, one embedding row.
  uint64_t bytes_per_token() const;

 private:
  ModelConfig config_;
  ModelWeights weights_;
  Tokenizer tokenizer_;
  std::shared_ptr<const void> storage_;
  std::string source_;
};

// Types a weight may have: those of the type table that run in the engine (ggml_type.hpp).
bool weight_type_supported(GgmlType type);

// Memory-maps a GGUF model. Errors: io, format (malformed or inconsistent shapes), unsupported
// (architecture, tensor type, tokenizer, rope scaling), each naming the file.
Result<std::shared_ptr<const Model>> load_model(const std::filesystem::path& path);

// The tokenizer data in GGUF metadata (tokenizer.ggml.*).
Result<Vocab> vocab_from_metadata(const Metadata& md);

struct ContextOptions {
  uint32_t n_ctx = 0;       // 0: the model's training context, at most 4096
  uint32_t n_threads = 0;   // 0: all hardware threads
};

// One sequence's state: KV cache (F16) and scratch buffers. Not thread-safe.
class Context {
 public:
  static Result<std::unique_ptr<Context>> create(std::shared_ptr<const Model> model,
                                                 const ContextOptions& options = {});
  ~Context();

  // Runs `tokens` at positions n_past()..n_past()+tokens.size()-1 as one batch and appends them
  // to the cache. Returns the logits of the last token (n_vocab floats) or, with all_logits,
  // of every token (tokens.size() x n_vocab, row-major). Valid until the next call.
  // Errors: invalid_argument (empty, id out of range, context full).
  Result<std::span<const float>> eval(std::span<const int32_t> tokens, bool all_logits = false);

  uint32_t n_past() const;
  uint32_t n_ctx() const;
  uint32_t n_threads() const;
  void reset();  // forget every position
  const Model& model() const;
  uint64_t kv_cache_bytes() const;

 private:
  struct Impl;
  explicit Context(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct GenerateOptions {
  int32_t n_predict = 128;   // tokens to generate; < 0: until end of generation or full context
  SamplerParams sampling;
  bool stop_at_eos = true;
};

struct GenerateStats {
  uint32_t prompt_tokens = 0;
  uint32_t generated_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  bool stopped_at_eos = false;
};

// Called with each generated token and its text (complete UTF-8 only); return false to stop.
using TokenCallback = std::function<bool(int32_t token, std::string_view text)>;

// Feeds `prompt` (REQUIRES non-empty) and generates. The text handed to `on_token` is
// Tokenizer::piece with incomplete UTF-8 held back; the last piece flushes what remains.
Result<GenerateStats> generate(Context& ctx, std::span<const int32_t> prompt,
                               const GenerateOptions& options, const TokenCallback& on_token);

}  // namespace modelswarm
