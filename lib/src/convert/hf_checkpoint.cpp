// HF checkpoint directory -> the tensor list and metadata of the GGUF llama.cpp would make.
#include <map>

#include "convert/hf_internal.hpp"
#include "modelswarm/hf_checkpoint.hpp"
#include "modelswarm/quant.hpp"
#include "modelswarm/safetensors.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

// HF name inside a block -> GGUF name inside a block, and the role.
struct BlockName {
  const char* hf;
  const char* gguf;
  HfTensorRole role;
};
constexpr BlockName kBlockNames[] = {
    {"input_layernorm.weight", "attn_norm.weight", HfTensorRole::vector},
    {"self_attn.q_proj.weight", "attn_q.weight", HfTensorRole::matrix},
    {"self_attn.k_proj.weight", "attn_k.weight", HfTensorRole::matrix},
    {"self_attn.v_proj.weight", "attn_v.weight", HfTensorRole::matrix},
    {"self_attn.q_proj.bias", "attn_q.bias", HfTensorRole::vector},
    {"self_attn.k_proj.bias", "attn_k.bias", HfTensorRole::vector},
    {"self_attn.v_proj.bias", "attn_v.bias", HfTensorRole::vector},
    {"self_attn.o_proj.weight", "attn_output.weight", HfTensorRole::matrix},
    {"post_attention_layernorm.weight", "ffn_norm.weight", HfTensorRole::vector},
    {"mlp.gate_proj.weight", "ffn_gate.weight", HfTensorRole::matrix},
    {"mlp.up_proj.weight", "ffn_up.weight", HfTensorRole::matrix},
    {"mlp.down_proj.weight", "ffn_down.weight", HfTensorRole::matrix},
};

struct Builder {
  const convert::HfConfig& cfg;
  HfCheckpoint& ck;
  std::map<std::string, size_t> by_name;  // HF name -> index into ck.info.tensors
  std::vector<bool> used;
  std::string src;

  // Adds `hf` as `gguf`; shape must be rows x cols (vectors: {cols}). `required`: error if absent.
  Status add(const std::string& hf, const std::string& gguf, HfTensorRole role, uint64_t rows,
             uint64_t cols, bool required, uint64_t permute = 0) {
    // gemma3's norms, and only those, are stored as w of x * (1 + w).
    const bool shift = cfg.arch == "gemma3" && role == HfTensorRole::vector && gguf.ends_with("norm.weight");
    auto it = by_name.find(hf);
    if (it == by_name.end()) {
      if (required) return Error::format(src + ": tensor " + hf + " is missing");
      return {};
    }
    const TensorInfo& t = ck.info.tensors[it->second];
    if (!t.ggml_type || !convert::hf_source_type(*t.ggml_type)) {
      auto source = [](const GgmlTypeTraits& g) { return convert::hf_source_type(g.type); };
      return Error::unsupported(src + ": tensor " + hf + " has dtype " + t.dtype +
                                " (supported: " + ggml_type_names(source) + ")");
    }
    const std::vector<uint64_t> want =
        role == HfTensorRole::vector ? std::vector<uint64_t>{cols} : std::vector<uint64_t>{rows, cols};
    if (t.shape != want) {
      auto dims = [](const std::vector<uint64_t>& v) {
        std::string s;
        for (size_t i = 0; i < v.size(); ++i) {
          if (i) s += 'x';
          s += std::to_string(v[i]);
        }
        return s;
      };
      const std::string got = dims(t.shape), exp = dims(want);
      return Error::format(src + ": tensor " + hf + " has shape [" + got + "], config.json implies [" + exp + "]");
    }
    HfTensor h;
    h.gguf_name = gguf;
    h.role = role;
    h.rows = role == HfTensorRole::vector ? 1 : rows;
    h.cols = cols;
    h.source = static_cast<int64_t>(it->second);
    h.permute_head_dim = permute;
    h.add = shift ? 1.0f : 0.0f;
    ck.tensors.push_back(std::move(h));
    used[it->second] = true;
    return {};
  }
};

}  // namespace

const HfTensor* HfCheckpoint::find(std::string_view gguf_name) const {
  for (const auto& t : tensors)
    if (t.gguf_name == gguf_name) return &t;
  return nullptr;
}

uint64_t HfCheckpoint::input_bytes() const {
  uint64_t b = 0;
  for (const auto& t : tensors)
    if (t.source >= 0) b += info.tensors[t.source].size;
  return b;
}

bool is_hf_checkpoint_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || !fs::is_regular_file(dir / "config.json", ec)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".safetensors") return true;
  return false;
}

namespace {

// The tensors of block `l`, their shapes from config.json; llama's q and k rows are permuted
// back to GGUF's head layout.
Status add_block(Builder& b, const convert::HfConfig& cfg, uint32_t l) {
  const uint64_t d = cfg.n_embd, hd = cfg.head_dim, q = uint64_t{cfg.n_head} * hd,
                 kv = uint64_t{cfg.n_head_kv} * hd, f = cfg.n_ff;
  const bool llama = cfg.arch == "llama", bias = cfg.arch == "qwen2", gemma = cfg.arch == "gemma3";
  const std::string h = "model.layers." + std::to_string(l) + ".";
  const std::string g = "blk." + std::to_string(l) + ".";
  for (const BlockName& n : kBlockNames) {
    const std::string hf = n.hf;
    // rows x cols of each weight, from config.json; biases are vectors of `rows`.
    uint64_t rows = d, cols = d, permute = 0;
    if (hf.starts_with("self_attn.q_proj")) rows = q, permute = llama ? hd : 0;
    else if (hf.starts_with("self_attn.k_proj")) rows = kv, permute = llama ? hd : 0;
    else if (hf.starts_with("self_attn.v_proj")) rows = kv;
    else if (hf == "self_attn.o_proj.weight") cols = q;
    else if (hf == "mlp.gate_proj.weight" || hf == "mlp.up_proj.weight") rows = f;
    else if (hf == "mlp.down_proj.weight") cols = f;
    if (n.role == HfTensorRole::vector) {
      if (hf.ends_with(".bias")) {
        if (!bias) continue;  // only qwen2 has them (attention_bias is refused otherwise)
        cols = rows;
      }
      rows = 1;
      permute = 0;
    }
    // gemma3's post_attention_layernorm is the attention's post-norm; its FFN norm is
    // pre_feedforward_layernorm.
    if (gemma && hf == "post_attention_layernorm.weight") {
      MS_TRY(b.add(h + hf, g + "post_attention_norm.weight", n.role, rows, cols, true));
      MS_TRY(b.add(h + "pre_feedforward_layernorm.weight", g + "ffn_norm.weight", n.role, rows, cols, true));
      MS_TRY(b.add(h + "post_feedforward_layernorm.weight", g + "post_ffw_norm.weight", n.role, rows, cols, true));
      continue;
    }
    MS_TRY(b.add(h + hf, g + n.gguf, n.role, rows, cols, true, permute));
  }
  if (cfg.arch == "qwen3" || gemma) {  // QK-norm: one weight per head dimension, shared by the heads
    MS_TRY(b.add(h + "self_attn.q_norm.weight", g + "attn_q_norm.weight", HfTensorRole::vector, 1, hd, true));
    MS_TRY(b.add(h + "self_attn.k_norm.weight", g + "attn_k_norm.weight", HfTensorRole::vector, 1, hd, true));
  }
  for (const char* skip : {"self_attn.rotary_emb.inv_freq"})
    if (auto it = b.by_name.find(h + skip); it != b.by_name.end()) b.used[it->second] = true;
  return {};
}

// The GGUF metadata: architecture, name (the directory's), hyper-parameters and, when
// tokenizer.json converts, the tokenizer (else its error is kept, or returned if required).
Status set_metadata(HfCheckpoint& ck, const convert::HfConfig& cfg, const fs::path& dir, bool require_tokenizer) {
  Metadata& md = ck.metadata;
  md.set_origin(dir.string());
  md.set("general.architecture", MetaValue::string(cfg.arch));
  std::string name = fs::absolute(dir).lexically_normal().filename().string();
  if (name.empty()) name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  md.set("general.name", MetaValue::string(name.empty() ? std::string("model") : name));
  convert::add_hparams(md, cfg);
  auto tok = hf_tokenizer_metadata(dir);
  if (!tok.ok()) {
    if (require_tokenizer) return tok.error();
    ck.tokenizer_error = tok.error().message;
    return {};
  }
  auto n = tok->get_string_array("tokenizer.ggml.tokens");
  if (n.ok() && n->size() > cfg.n_vocab)
    return Error::format(dir.string() + ": tokenizer.json has " + std::to_string(n->size()) +
                         " tokens, more than the " + std::to_string(cfg.n_vocab) + " embedding rows");
  for (const auto& [k, v] : tok->entries()) md.set(k, v);
  return {};
}

}  // namespace

Result<HfCheckpoint> open_hf_checkpoint(const fs::path& dir, bool require_tokenizer) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Error::invalid_argument(dir.string() + ": not a directory (expected config.json, *.safetensors, tokenizer.json)");
  MS_ASSIGN_OR_RETURN(convert::HfConfig cfg, convert::read_hf_config(dir));
  HfCheckpoint ck;
  ck.dir = dir;
  ck.arch = cfg.arch;
  MS_ASSIGN_OR_RETURN(ck.info, read_model_info(dir));
  if (ck.info.format != ModelFormat::safetensors)
    return Error::invalid_argument(dir.string() + ": holds no safetensors weights");

  Builder b{cfg, ck, {}, std::vector<bool>(ck.info.tensors.size(), false), dir.string()};
  for (size_t i = 0; i < ck.info.tensors.size(); ++i) b.by_name[ck.info.tensors[i].name] = i;

  auto emb = b.by_name.find("model.embed_tokens.weight");
  if (emb == b.by_name.end()) return Error::format(dir.string() + ": tensor model.embed_tokens.weight is missing");
  const auto& emb_shape = ck.info.tensors[emb->second].shape;
  if (emb_shape.size() != 2 || emb_shape[0] == 0 || emb_shape[0] > INT32_MAX)
    return Error::format(dir.string() + ": model.embed_tokens.weight is not a [vocab x hidden] matrix");
  const uint64_t n_vocab = emb_shape[0], d = cfg.n_embd;
  MS_TRY(b.add("model.embed_tokens.weight", "token_embd.weight", HfTensorRole::token_embd, n_vocab, d, true));
  MS_TRY(b.add("model.norm.weight", "output_norm.weight", HfTensorRole::vector, 1, d, true));
  if (!cfg.tie_embeddings) {
    MS_TRY(b.add("lm_head.weight", "output.weight", HfTensorRole::output, n_vocab, d, false));
  } else if (auto lm = b.by_name.find("lm_head.weight"); lm != b.by_name.end()) {
    b.used[lm->second] = true;  // a copy of the embeddings
  }
  ck.has_output = ck.find("output.weight") != nullptr;
  if (!cfg.rope_freqs.empty()) {
    ck.rope_freqs = cfg.rope_freqs;
    HfTensor rf;
    rf.gguf_name = "rope_freqs.weight";
    rf.role = HfTensorRole::vector;
    rf.cols = cfg.rope_freqs.size();
    ck.tensors.push_back(std::move(rf));
  }
  for (uint32_t l = 0; l < cfg.n_layer; ++l) MS_TRY(add_block(b, cfg, l));
  for (size_t i = 0; i < b.used.size(); ++i)
    if (!b.used[i])
      return Error::format(dir.string() + ": tensor " + ck.info.tensors[i].name +
                           " has no GGUF counterpart for " + cfg.arch);

  cfg.n_vocab = static_cast<uint32_t>(n_vocab);
  MS_TRY(set_metadata(ck, cfg, dir, require_tokenizer));
  return ck;
}

GgmlType hf_tensor_type(const HfTensor& t, GgmlType ftype, bool has_output) {
  if (t.role == HfTensorRole::vector) return GgmlType::F32;
  const auto traits = [](GgmlType g) { return *ggml_type_traits(static_cast<uint32_t>(g)); };
  const bool is_output = t.role == HfTensorRole::output || (!has_output && t.role == HfTensorRole::token_embd);
  GgmlType want = is_output ? traits(ftype).output_type.value_or(ftype) : ftype;
  // Each fallback has smaller blocks, down to F16's single elements.
  while (t.cols % traits(want).block_elements) want = traits(want).fallback;
  return want;
}

uint32_t llama_file_type_of(GgmlType ftype) {
  const auto t = ggml_type_traits(static_cast<uint32_t>(ftype));
  return t ? t->file_type : 0;
}

}  // namespace modelswarm
