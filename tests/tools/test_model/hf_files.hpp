// The non-weight files of an HF-style model directory: config.json, tokenizer.json,
// tokenizer_config.json, generation_config.json.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "spec.hpp"
#include "vocab.hpp"

namespace testmodel {

inline nlohmann::json hf_config(const Options& o, const Vocab& v) {
  const bool llama = o.arch == "llama", gemma = o.arch == "gemma3";
  const char* cls = llama ? "LlamaForCausalLM" : o.arch == "qwen2" ? "Qwen2ForCausalLM"
                    : gemma ? "Gemma3ForCausalLM" : "Qwen3ForCausalLM";
  nlohmann::json c = {
      {"architectures", {cls}},
      {"model_type", gemma ? "gemma3_text" : o.arch},
      {"hidden_size", o.dim},
      {"intermediate_size", o.ffn},
      {"num_hidden_layers", o.layers},
      {"num_attention_heads", o.heads},
      {"num_key_value_heads", o.kv_heads},
      {"head_dim", o.head_dim()},
      {"max_position_embeddings", o.context},
      {"rms_norm_eps", o.rms_eps},
      {"rope_theta", o.rope_base},
      {"vocab_size", o.vocab},
      {"tie_word_embeddings", o.tied},
      {"hidden_act", gemma ? "gelu_pytorch_tanh" : "silu"},
      {"bos_token_id", v.bos},
      {"eos_token_id", v.eos},
      {"torch_dtype", o.st_dtype == "F32" ? "float32" : o.st_dtype == "F16" ? "float16" : "bfloat16"},
  };
  if (!llama && !gemma) c["use_sliding_window"] = false;
  if (o.arch == "qwen3" || gemma) c["attention_bias"] = false;
  if (gemma) {
    c["hidden_activation"] = "gelu_pytorch_tanh";
    c["sliding_window"] = o.sliding_window;
    c["sliding_window_pattern"] = 6;
    c["rope_local_base_freq"] = 10000.0;
    c["query_pre_attn_scalar"] = o.head_dim();
    c["final_logit_softcapping"] = nullptr;
    c["attn_logit_softcapping"] = nullptr;
    c["rope_scaling"] = nullptr;
  }
  return c;
}

// `pre`: the GGUF pre-tokenizer name of a byte-level vocabulary ("qwen2" writes Qwen2's split
// pattern before the byte-level step, as Qwen2's own tokenizer.json does).
inline nlohmann::json hf_tokenizer(const Vocab& v, const std::string& pre = "gpt-2") {
  using json = nlohmann::json;
  json vocab = json::object();
  json added = json::array();
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    vocab[v.tokens[i]] = i;
    if (v.types[i] == kControl || v.types[i] == kUnknown)
      added.push_back({{"id", i}, {"content", v.tokens[i]}, {"single_word", false},
                       {"lstrip", false}, {"rstrip", false}, {"normalized", false},
                       {"special", true}});
  }
  json t = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr},
            {"added_tokens", added}};
  if (v.model == "llama") {
    const std::string space = "\xe2\x96\x81";
    t["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "Prepend"}, {"prepend", space}},
                         {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space}}}}};
    t["pre_tokenizer"] = nullptr;
    t["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                  {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                  {{"SpecialToken", {{"id", "<s>"}, {"type_id", 1}}}},
                  {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {v.bos}}, {"tokens", {"<s>"}}}}}}};
    t["decoder"] = {{"type", "Sequence"},
                    {"decoders",
                     {{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
                      {{"type", "ByteFallback"}},
                      {{"type", "Fuse"}},
                      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    t["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"},
                  {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                  {"fuse_unk", true}, {"byte_fallback", true}, {"ignore_merges", false},
                  {"vocab", vocab}, {"merges", v.merges}};
  } else {
    t["normalizer"] = nullptr;
    t["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false},
                          {"trim_offsets", true}, {"use_regex", true}};
    if (pre == "qwen2") {
      const char* split =
          R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
      t["normalizer"] = {{"type", "NFC"}};
      t["pre_tokenizer"] = {
          {"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", split}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false},
             {"use_regex", false}}}}};
    }
    t["post_processor"] = {{"type", "ByteLevel"}, {"add_prefix_space", true},
                           {"trim_offsets", false}, {"use_regex", true}};
    t["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true},
                    {"use_regex", true}};
    t["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                  {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""},
                  {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
                  {"vocab", vocab}, {"merges", v.merges}};
  }
  return t;
}

inline nlohmann::json hf_tokenizer_config(const Vocab& v) {
  nlohmann::json c = {{"bos_token", v.tokens[v.bos]}, {"eos_token", v.tokens[v.eos]},
                      {"add_bos_token", v.model == "llama"}, {"add_eos_token", false},
                      {"model_max_length", 1000000}};
  if (v.has_unk) c["unk_token"] = v.tokens[v.unk];
  return c;
}

inline bool write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream f(path, std::ios::trunc);
  f << j.dump(2) << "\n";
  return static_cast<bool>(f.flush());
}

}  // namespace testmodel
