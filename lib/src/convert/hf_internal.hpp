// Shared by the HF checkpoint converter's files: config.json as parsed, and JSON helpers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/metadata.hpp"

namespace modelswarm::convert {

// The hyper-parameters of config.json that the GGUF needs.
struct HfConfig {
  std::string arch;  // GGUF architecture: "llama", "qwen2", "qwen3" or "gemma3"
  uint32_t n_embd = 0, n_layer = 0, n_ff = 0, n_head = 0, n_head_kv = 0, head_dim = 0;
  uint32_t n_ctx = 0, n_vocab = 0;
  float rms_eps = 1e-6f, rope_base = 10000.0f;
  float rope_linear_factor = 0;   // > 0: linear rope scaling
  std::vector<float> rope_freqs;  // llama3 rope scaling
  bool tie_embeddings = false;
  uint32_t n_swa = 0;             // gemma3: sliding_window
  float attn_scale = 0;           // gemma3: 1/sqrt(query_pre_attn_scalar) when not 1/sqrt(head_dim)
  std::optional<int64_t> bos, eos;  // bos_token_id / eos_token_id (the first, for a list)
};

// parse_untrusted_json of `text`, which must hold a JSON object; `what` names it in errors.
Result<nlohmann::json> parse_json_object(std::string_view text, const std::string& what);
// parse_json_object of a whole file.
Result<nlohmann::json> read_json_object(const std::filesystem::path& path, uint64_t max_bytes);
// Optional members of an object: the fallback when absent or null, a format error naming `src`
// and `key` when of another type (where nlohmann's value() would throw).
Result<bool> optional_bool(const nlohmann::json& j, const char* key, bool fallback, const std::string& src);
Result<std::string> optional_string(const nlohmann::json& j, const char* key, const std::string& src);

// dir/config.json, through parse_hf_config.
Result<HfConfig> read_hf_config(const std::filesystem::path& dir);
// config.json's object; `src` names the file in errors. Separate from the file so that the
// fuzzer (tests/fuzz/fuzz_hf_config.cpp) reaches it without a directory.
Result<HfConfig> parse_hf_config(const nlohmann::json& j, const std::string& src);

// hf_tokenizer_metadata (hf_checkpoint.hpp) on the parsed files: tokenizer.json, and
// tokenizer_config.json and config.json (empty objects when absent). `src` names tokenizer.json.
Result<Metadata> tokenizer_metadata_from_json(const nlohmann::json& tokenizer,
                                              const nlohmann::json& tokenizer_config,
                                              const nlohmann::json& config, const std::string& src);

// True for the dtypes the converter reads source tensors in: element types (no blocks) that
// dequantize_row turns into floats (F32, F16, BF16).
bool hf_source_type(GgmlType type);

// {arch}.* keys, in llama.cpp's converter order.
void add_hparams(Metadata& md, const HfConfig& c);

}  // namespace modelswarm::convert
