// The shape of a generated model: options, and the list of tensors with their names in both
// formats, shapes, value distributions and GGUF types.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "modelswarm/ggml_type.hpp"
#include "weights.hpp"

namespace testmodel {

struct Options {
  std::string arch = "llama";  // llama | qwen2 | qwen3 | gemma3
  uint64_t seed = 1;
  uint32_t dim = 64, layers = 2, heads = 4, kv_heads = 0 /* = heads */, ffn = 0 /* = 3*dim */;
  uint32_t vocab = 512, context = 256;
  std::string type = "F32";         // 2-D weights (and token_embd) in GGUF
  std::string output_type;          // output.weight in GGUF; default = type
  bool tied = false;                // no output.weight / lm_head.weight
  std::string tokenizer = "llama";  // llama (SentencePiece) | gpt2 (byte-level BPE)
  double rope_base = 10000.0, rms_eps = 1e-5;  // stored as f32 in GGUF
  std::string name = "modelswarm-test";
  std::string gguf_path;            // write GGUF here when set
  std::string hf_dir;               // write HF-style safetensors + config here when set
  uint32_t shards = 1;
  std::string st_dtype = "F32";     // safetensors dtype: F32 | F16 | BF16
  unsigned threads = 0;             // 0 = hardware concurrency

  uint32_t head_dim_set = 0;        // 0: dim / heads (qwen3 models often differ)
  uint32_t sliding_window = 8;      // gemma3: attention.sliding_window

  uint32_t head_dim() const { return head_dim_set ? head_dim_set : dim / heads; }
  // Whether the files must say the head size (attention.key_length, config head_dim).
  bool explicit_head_dim() const { return arch == "qwen3" || arch == "gemma3" || head_dim() * heads != dim; }
};

struct TensorSpec {
  std::string gguf_name;
  std::string hf_name;
  std::vector<uint64_t> hf_shape;  // outermost first; rows x cols, or {n}
  Distribution dist;
  modelswarm::GgmlType gguf_type = modelswarm::GgmlType::F32;
  uint64_t permute_head_dim = 0;  // > 0: GGUF rows are llama.cpp-permuted (Q and K)
  float hf_add = 0;               // HF value = GGUF value + hf_add (gemma3's norms: w of x * (1 + w))

  uint64_t cols() const { return hf_shape.back(); }
  uint64_t rows() const { return hf_shape.size() == 1 ? 1 : hf_shape[0]; }
  // GGUF dims, innermost first.
  std::vector<uint64_t> gguf_dims() const {
    return hf_shape.size() == 1 ? std::vector<uint64_t>{hf_shape[0]}
                                : std::vector<uint64_t>{hf_shape[1], hf_shape[0]};
  }
};

// Tensors in GGUF order (token_embd, output_norm, output, then blocks), as llama.cpp names them.
inline std::vector<TensorSpec> model_tensors(const Options& o, modelswarm::GgmlType wtype,
                                             modelswarm::GgmlType otype) {
  using modelswarm::GgmlType;
  const uint64_t d = o.dim, hd = o.head_dim(), q = uint64_t{o.heads} * hd,
                 kv = uint64_t{o.kv_heads} * hd, f = o.ffn, v = o.vocab;
  const bool llama = o.arch == "llama", gemma = o.arch == "gemma3";
  const float wstd = 1.0f / std::sqrt(static_cast<float>(d));
  const Distribution norm{1.0f, 0.1f}, embed{0, 2.0f * wstd}, mat{0, wstd},
      down{0, 1.0f / std::sqrt(static_cast<float>(f))}, bias{0, 0.1f};
  std::vector<TensorSpec> t;
  t.push_back({"token_embd.weight", "model.embed_tokens.weight", {v, d}, embed, wtype});
  t.push_back({"output_norm.weight", "model.norm.weight", {d}, norm, GgmlType::F32});
  if (!o.tied) t.push_back({"output.weight", "lm_head.weight", {v, d}, embed, otype});
  auto add_norm = [&](const std::string& gguf, const std::string& hf, uint64_t n) {
    t.push_back({gguf, hf, {n}, norm, GgmlType::F32, 0, gemma ? -1.0f : 0.0f});
  };
  if (gemma) t[1].hf_add = -1.0f;
  for (uint32_t l = 0; l < o.layers; ++l) {
    const std::string g = "blk." + std::to_string(l) + ".";
    const std::string h = "model.layers." + std::to_string(l) + ".";
    add_norm(g + "attn_norm.weight", h + "input_layernorm.weight", d);
    t.push_back({g + "attn_q.weight", h + "self_attn.q_proj.weight", {q, d}, mat, wtype,
                 llama ? hd : 0});
    t.push_back({g + "attn_k.weight", h + "self_attn.k_proj.weight", {kv, d}, mat, wtype,
                 llama ? hd : 0});
    t.push_back({g + "attn_v.weight", h + "self_attn.v_proj.weight", {kv, d}, mat, wtype});
    if (o.arch == "qwen2") {  // biases on q, k, v (NEOX RoPE, so no permutation anywhere)
      t.push_back({g + "attn_q.bias", h + "self_attn.q_proj.bias", {q}, bias, GgmlType::F32});
      t.push_back({g + "attn_k.bias", h + "self_attn.k_proj.bias", {kv}, bias, GgmlType::F32});
      t.push_back({g + "attn_v.bias", h + "self_attn.v_proj.bias", {kv}, bias, GgmlType::F32});
    }
    if (o.arch == "qwen3" || gemma) {  // QK-norm: RMSNorm weights over each head of q and k
      add_norm(g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", hd);
      add_norm(g + "attn_k_norm.weight", h + "self_attn.k_norm.weight", hd);
    }
    t.push_back({g + "attn_output.weight", h + "self_attn.o_proj.weight", {d, q}, mat, wtype});
    if (gemma) {  // post-norms around attention and FFN; the FFN's pre-norm has its own HF name
      add_norm(g + "post_attention_norm.weight", h + "post_attention_layernorm.weight", d);
      add_norm(g + "ffn_norm.weight", h + "pre_feedforward_layernorm.weight", d);
      add_norm(g + "post_ffw_norm.weight", h + "post_feedforward_layernorm.weight", d);
    } else {
      add_norm(g + "ffn_norm.weight", h + "post_attention_layernorm.weight", d);
    }
    t.push_back({g + "ffn_gate.weight", h + "mlp.gate_proj.weight", {f, d}, mat, wtype});
    t.push_back({g + "ffn_up.weight", h + "mlp.up_proj.weight", {f, d}, mat, wtype});
    t.push_back({g + "ffn_down.weight", h + "mlp.down_proj.weight", {d, f}, down, wtype});
  }
  return t;
}

// llama_ftype of a file whose bulk weights are `wtype` (general.file_type).
inline uint32_t llama_file_type(modelswarm::GgmlType wtype) {
  using modelswarm::GgmlType;
  switch (wtype) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q4_1: return 3;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q5_0: return 8;
    case GgmlType::Q5_1: return 9;
    case GgmlType::IQ4_NL: return 25;
    case GgmlType::Q4_K: return 15;  // Q4_K_M
    case GgmlType::Q6_K: return 18;
    case GgmlType::BF16: return 32;
    default: return 0;
  }
}

}  // namespace testmodel
