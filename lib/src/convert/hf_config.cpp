// config.json -> the hyper-parameters a llama / qwen2 / qwen3 / gemma3 GGUF records.
#include <cmath>
#include <numbers>

#include "convert/hf_internal.hpp"
#include "format/json_limits.hpp"
#include "modelswarm/paths.hpp"

namespace modelswarm::convert {

namespace fs = std::filesystem;
using nlohmann::json;

Result<json> parse_json_object(std::string_view text, const std::string& what) {
  MS_ASSIGN_OR_RETURN(json j, format::parse_untrusted_json(text, what, 64));
  if (!j.is_object()) return Error::format(what + ": not a JSON object");
  return j;
}

Result<json> read_json_object(const fs::path& path, uint64_t max_bytes) {
  MS_ASSIGN_OR_RETURN(std::string text, read_small_file(path, max_bytes));
  return parse_json_object(text, path.string());
}

Result<bool> optional_bool(const json& j, const char* key, bool fallback, const std::string& src) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return Error::format(src + ": \"" + key + "\" is not true or false");
  return it->get<bool>();
}

Result<std::string> optional_string(const json& j, const char* key, const std::string& src) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Error::format(src + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

namespace {

struct Reader {
  const json& j;
  std::string src;

  Result<uint32_t> u32(const char* key, std::optional<uint32_t> def = std::nullopt) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (def) return *def;
      return Error::format(src + ": \"" + key + "\" is missing");
    }
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > int64_t{UINT32_MAX})
      return Error::format(src + ": \"" + key + "\" is not a valid count");
    return static_cast<uint32_t>(it->get<int64_t>());
  }
  Result<float> f32(const char* key, float def) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return def;
    if (!it->is_number()) return Error::format(src + ": \"" + key + "\" is not a number");
    double v = it->get<double>();
    if (!std::isfinite(v) || !(v > 0)) return Error::format(src + ": \"" + key + "\" must be positive");
    return static_cast<float>(v);
  }
  std::optional<int64_t> token_id(const char* key) const {
    auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    const json& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
    if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
    return std::nullopt;
  }
};

// Per-frequency factors of Llama 3.1's rope scaling: long wavelengths are slowed by `factor`,
// short ones kept, and the band between blended smoothly.
std::vector<float> llama3_rope_factors(const HfConfig& c, double factor, double low, double high,
                                       double old_ctx) {
  std::vector<float> out;
  const double low_wavelen = old_ctx / low, high_wavelen = old_ctx / high;
  for (uint32_t i = 0; i < c.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(double(c.rope_base), double(i) / c.head_dim);
    const double wavelen = 2 * std::numbers::pi / freq;
    double f;
    if (wavelen < high_wavelen) f = 1.0;
    else if (wavelen > low_wavelen) f = factor;
    else {
      const double smooth = (old_ctx / wavelen - low) / (high - low);
      f = 1.0 / ((1 - smooth) / factor + smooth);
    }
    out.push_back(static_cast<float>(f));
  }
  return out;
}

Status read_rope_scaling(const json& j, HfConfig& c, const std::string& src) {
  auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_object()) return Error::format(src + ": \"rope_scaling\" is not an object");
  const json& rs = *it;
  std::string type;
  for (const char* k : {"rope_type", "type"})
    if (auto t = rs.find(k); t != rs.end() && t->is_string()) type = t->get<std::string>();
  auto num = [&](const char* k, double def) {
    auto t = rs.find(k);
    return t != rs.end() && t->is_number() ? t->get<double>() : def;
  };
  const double factor = num("factor", 1.0);
  if (!std::isfinite(factor) || !(factor > 0)) return Error::format(src + ": rope_scaling.factor must be positive");
  if (type == "default") return {};
  if (type == "linear") {
    c.rope_linear_factor = static_cast<float>(factor);
    return {};
  }
  if (type == "llama3") {
    const double low = num("low_freq_factor", 1.0), high = num("high_freq_factor", 4.0),
                 old = num("original_max_position_embeddings", 8192.0);
    if (!(low > 0) || !(high > low) || !(old > 0) || !std::isfinite(high) || !std::isfinite(old))
      return Error::format(src + ": rope_scaling has invalid llama3 parameters");
    c.rope_freqs = llama3_rope_factors(c, factor, low, high, old);
    return {};
  }
  return Error::unsupported(src + ": rope_scaling type \"" + type +
                            "\" is not supported (linear, llama3)");
}

// What gemma3 (text) adds, checked against what its GGUF can say: llama.cpp fixes the layer
// pattern (every 6th global), the local RoPE base (10000) and the attention scale (head_dim,
// n_embd / n_head for the 62-layer 27B), so a config.json that departs from them is refused.
Status read_gemma3(const json& j, const Reader& r, HfConfig& c, const std::string& src) {
  MS_ASSIGN_OR_RETURN(c.n_swa, r.u32("sliding_window"));
  if (c.n_swa == 0) return Error::format(src + ": \"sliding_window\" must be positive");
  MS_ASSIGN_OR_RETURN(uint32_t pattern, r.u32("sliding_window_pattern", 6));
  if (pattern != 6) return Error::unsupported(src + ": sliding_window_pattern " + std::to_string(pattern) + " is not supported (6)");
  if (auto it = j.find("layer_types"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != c.n_layer)
      return Error::format(src + ": \"layer_types\" is not a list of num_hidden_layers entries");
    for (uint32_t il = 0; il < c.n_layer; ++il) {
      const json& t = (*it)[il];
      const char* want = il % 6 == 5 ? "full_attention" : "sliding_attention";
      if (!t.is_string() || t.get<std::string>() != want)
        return Error::unsupported(src + ": layer_types[" + std::to_string(il) + "] is not \"" + want +
                                  "\" (every 6th layer global is supported)");
    }
  }
  MS_ASSIGN_OR_RETURN(float local_base, r.f32("rope_local_base_freq", 10000.0f));
  if (local_base != 10000.0f) return Error::unsupported(src + ": rope_local_base_freq other than 10000 is not supported");
  MS_ASSIGN_OR_RETURN(float scalar, r.f32("query_pre_attn_scalar", static_cast<float>(c.head_dim)));
  const float implied = c.n_layer == 62 ? static_cast<float>(c.n_embd / c.n_head) : static_cast<float>(c.head_dim);
  if (scalar != implied)
    return Error::unsupported(src + ": query_pre_attn_scalar " + std::to_string(scalar) + " is not supported (" +
                              std::to_string(implied) + " for this shape)");
  if (scalar != static_cast<float>(c.head_dim)) c.attn_scale = 1.0f / std::sqrt(scalar);
  for (const char* k : {"final_logit_softcapping", "attn_logit_softcapping"})
    if (auto it = j.find(k); it != j.end() && !it->is_null())
      return Error::unsupported(src + ": \"" + k + "\" is not supported for gemma3");
  for (const char* k : {"hidden_activation", "hidden_act"})
    if (auto it = j.find(k); it != j.end() && it->is_string() && it->get<std::string>() != "gelu_pytorch_tanh")
      return Error::unsupported(src + ": " + k + " \"" + it->get<std::string>() + "\" is not supported (gelu_pytorch_tanh)");
  if (c.rope_freqs.size()) return Error::unsupported(src + ": llama3 rope_scaling is not supported for gemma3");
  return {};
}

}  // namespace

Result<HfConfig> read_hf_config(const fs::path& dir) {
  const fs::path path = dir / "config.json";
  MS_ASSIGN_OR_RETURN(json j, read_json_object(path, 16u << 20));
  return parse_hf_config(j, path.string());
}

Result<HfConfig> parse_hf_config(const json& j, const std::string& src) {
  MS_ASSIGN_OR_RETURN(std::string model_type, optional_string(j, "model_type", src));
  std::string class_name;
  if (auto a = j.find("architectures"); a != j.end() && a->is_array() && !a->empty() && (*a)[0].is_string())
    class_name = (*a)[0].get<std::string>();
  HfConfig c;
  if (model_type == "llama" || model_type == "mistral" || class_name == "LlamaForCausalLM" ||
      class_name == "MistralForCausalLM")
    c.arch = "llama";
  else if (model_type == "qwen2" || class_name == "Qwen2ForCausalLM")
    c.arch = "qwen2";
  else if (model_type == "qwen3" || class_name == "Qwen3ForCausalLM")
    c.arch = "qwen3";
  else if (model_type == "gemma3_text" || class_name == "Gemma3ForCausalLM")
    c.arch = "gemma3";
  else
    return Error::unsupported(src + ": architecture \"" + (class_name.empty() ? model_type : class_name) +
                              "\" is not supported (llama, mistral, qwen2, qwen3, gemma3)");
  if (!class_name.empty() && class_name.find("ForCausalLM") == std::string::npos)
    return Error::unsupported(src + ": \"" + class_name + "\" is not a causal language model");

  Reader r{j, src};
  MS_ASSIGN_OR_RETURN(c.n_embd, r.u32("hidden_size"));
  MS_ASSIGN_OR_RETURN(c.n_layer, r.u32("num_hidden_layers"));
  MS_ASSIGN_OR_RETURN(c.n_ff, r.u32("intermediate_size"));
  MS_ASSIGN_OR_RETURN(c.n_head, r.u32("num_attention_heads"));
  MS_ASSIGN_OR_RETURN(c.n_head_kv, r.u32("num_key_value_heads", c.n_head));
  MS_ASSIGN_OR_RETURN(c.n_ctx, r.u32("max_position_embeddings", 2048));
  MS_ASSIGN_OR_RETURN(c.n_vocab, r.u32("vocab_size", 0));
  MS_ASSIGN_OR_RETURN(c.rms_eps, r.f32("rms_norm_eps", 1e-6f));
  const bool gemma = c.arch == "gemma3";
  // Gemma3TextConfig's defaults, where config.json leaves them out.
  MS_ASSIGN_OR_RETURN(c.rope_base, r.f32("rope_theta", gemma ? 1e6f : 10000.0f));
  if (c.n_embd == 0 || c.n_layer == 0 || c.n_ff == 0 || c.n_head == 0 || c.n_head_kv == 0 ||
      c.n_head % c.n_head_kv != 0 || c.n_layer > 4096 || c.n_head > 4096 || c.n_embd > (1u << 20) ||
      c.n_ff > (1u << 22))
    return Error::format(src + ": inconsistent model dimensions");
  // Heads may be wider or narrower than hidden_size / num_attention_heads (Qwen3-0.6B: 16 heads
  // of 128 in 1024); without "head_dim" they divide hidden_size.
  if ((!j.contains("head_dim") || j["head_dim"].is_null()) && c.n_embd % c.n_head != 0)
    return Error::format(src + ": hidden_size is not a multiple of num_attention_heads and head_dim is missing");
  MS_ASSIGN_OR_RETURN(c.head_dim, r.u32("head_dim", gemma ? 256 : c.n_embd / c.n_head));
  if (c.head_dim == 0 || c.head_dim % 2 != 0 || c.head_dim > 1024)
    return Error::unsupported(src + ": head_dim " + std::to_string(c.head_dim) + " is not supported (even, at most 1024)");
  for (const char* k : {"attention_bias", "mlp_bias"}) {
    MS_ASSIGN_OR_RETURN(bool bias, optional_bool(j, k, false, src));
    if (c.arch != "qwen2" && bias)
      return Error::unsupported(src + ": \"" + k + "\" is not supported for " + c.arch);
  }
  if (auto it = j.find("hidden_act"); !gemma && it != j.end() && it->is_string() && it->get<std::string>() != "silu")
    return Error::unsupported(src + ": hidden_act \"" + it->get<std::string>() + "\" is not supported (silu)");
  MS_ASSIGN_OR_RETURN(c.tie_embeddings, optional_bool(j, "tie_word_embeddings", gemma, src));
  MS_TRY(read_rope_scaling(j, c, src));
  if (gemma) MS_TRY(read_gemma3(j, r, c, src));
  c.bos = r.token_id("bos_token_id");
  c.eos = r.token_id("eos_token_id");
  return c;
}

void add_hparams(Metadata& md, const HfConfig& c) {
  const std::string a = c.arch + ".";
  md.set(a + "block_count", MetaValue::u32(c.n_layer));
  md.set(a + "context_length", MetaValue::u32(c.n_ctx));
  md.set(a + "embedding_length", MetaValue::u32(c.n_embd));
  md.set(a + "feed_forward_length", MetaValue::u32(c.n_ff));
  md.set(a + "attention.head_count", MetaValue::u32(c.n_head));
  md.set(a + "attention.head_count_kv", MetaValue::u32(c.n_head_kv));
  md.set(a + "rope.freq_base", MetaValue::f32(c.rope_base));
  md.set(a + "attention.layer_norm_rms_epsilon", MetaValue::f32(c.rms_eps));
  if (c.n_vocab) md.set(a + "vocab_size", MetaValue::u32(c.n_vocab));
  md.set(a + "rope.dimension_count", MetaValue::u32(c.head_dim));
  if (c.arch == "qwen3" || c.arch == "gemma3" || c.head_dim * c.n_head != c.n_embd) {
    md.set(a + "attention.key_length", MetaValue::u32(c.head_dim));
    md.set(a + "attention.value_length", MetaValue::u32(c.head_dim));
  }
  if (c.n_swa) md.set(a + "attention.sliding_window", MetaValue::u32(c.n_swa));
  if (c.rope_linear_factor > 0) {  // gemma3: for the global layers only
    md.set(a + "rope.scaling.type", MetaValue::string("linear"));
    md.set(a + "rope.scaling.factor", MetaValue::f32(c.rope_linear_factor));
  }
}

}  // namespace modelswarm::convert
