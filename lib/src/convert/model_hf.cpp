// HF checkpoint -> Model: every weight converted from the mapped shards into its own buffer of
// the engine's type, tensor by tensor; the shards' pages are released after each tensor.
#include <cstdlib>
#include <cstring>

#include "convert/hf_internal.hpp"
#include "modelswarm/hf_checkpoint.hpp"
#include "modelswarm/hf_model.hpp"
#include "modelswarm/quantize.hpp"

namespace modelswarm {

namespace {

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t[], FreeDeleter>;

// Everything the WeightTensor pointers point into.
struct Storage {
  std::vector<Buffer> buffers;
};

Result<ModelConfig> config_of(const convert::HfConfig& h, uint32_t n_vocab) {
  ModelConfig c;
  const ArchitectureInfo* arch = find_architecture(h.arch);
  if (!arch) return Error::unsupported("architecture " + h.arch + " is not supported");
  c.arch = arch->arch;
  c.arch_name = h.arch;
  c.rope_mode = arch->rope;
  c.n_embd = h.n_embd;
  c.n_layer = h.n_layer;
  c.n_ff = h.n_ff;
  c.n_head = h.n_head;
  c.n_head_kv = h.n_head_kv;
  c.head_dim = h.head_dim;
  c.n_rot = h.head_dim;
  c.n_vocab = n_vocab;
  c.n_ctx_train = h.n_ctx;
  c.rms_eps = h.rms_eps;
  c.rope_freq_base = h.rope_base;
  if (h.rope_linear_factor > 0) c.rope_freq_scale = 1.0f / h.rope_linear_factor;
  c.attn_scale = h.attn_scale;
  if (arch->swa_pattern) {
    c.n_swa = h.n_swa;
    c.swa_pattern = arch->swa_pattern;
  }
  return c;
}

// Stand-in for a tokenizer.json that cannot be converted: token i reads "[i]".
Vocab placeholder_vocab(uint32_t n) {
  Vocab v;
  v.model = "gpt2";
  v.pre = "gpt2";
  v.add_bos = false;
  for (uint32_t i = 0; i < n; ++i) v.tokens.push_back("[" + std::to_string(i) + "]");
  return v;
}

}  // namespace

Result<std::shared_ptr<const Model>> load_hf_model(const std::filesystem::path& dir,
                                                   const HfLoadOptions& o) {
  if (!quantize_type_supported(o.type))
    return Error::invalid_argument(dir.string() + ": cannot load weights as this type");
  const std::string src = dir.string();
  MS_ASSIGN_OR_RETURN(HfCheckpoint ck, open_hf_checkpoint(dir, o.require_tokenizer));
  MS_ASSIGN_OR_RETURN(convert::HfConfig hc, convert::read_hf_config(dir));
  MS_ASSIGN_OR_RETURN(HfTensorReader reader, HfTensorReader::open(ck));

  auto storage = std::make_shared<Storage>();
  auto load = [&](const HfTensor& t) -> Result<WeightTensor> {
    const GgmlType type = hf_tensor_type(t, o.type, ck.has_output);
    const uint64_t rb = *ggml_row_bytes(type, t.cols);
    // 64-byte alignment for the SIMD kernels; the size rounded up as aligned_alloc requires.
    const uint64_t bytes = std::max<uint64_t>(64, (t.rows * rb + 63) / 64 * 64);
    Buffer buf(static_cast<uint8_t*>(std::aligned_alloc(64, bytes)));
    if (!buf) return Error::io(src + ": out of memory for " + t.gguf_name);
    MS_TRY(reader.convert_rows(t, type, 0, t.rows, buf.get(), o.threads));
    reader.release(t);
    WeightTensor w;
    w.name = t.gguf_name;
    w.type = type;
    w.data = buf.get();
    w.rows = t.rows;
    w.cols = t.cols;
    w.row_bytes = rb;
    storage->buffers.push_back(std::move(buf));
    return w;
  };
  auto get = [&](const std::string& name) -> Result<WeightTensor> {
    const HfTensor* t = ck.find(name);
    if (!t) return WeightTensor{};  // optional tensors; required ones were checked when opening
    return load(*t);
  };

  ModelWeights w;
  MS_ASSIGN_OR_RETURN(w.token_embd, get("token_embd.weight"));
  MS_ASSIGN_OR_RETURN(w.output_norm, get("output_norm.weight"));
  MS_ASSIGN_OR_RETURN(w.output, get("output.weight"));
  if (!w.output.present()) {
    w.output = w.token_embd;
    w.tied_embeddings = true;
  }
  MS_ASSIGN_OR_RETURN(w.rope_freqs, get("rope_freqs.weight"));
  for (uint32_t i = 0; i < hc.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights l;
    MS_ASSIGN_OR_RETURN(l.attn_norm, get(p + "attn_norm.weight"));
    MS_ASSIGN_OR_RETURN(l.wq, get(p + "attn_q.weight"));
    MS_ASSIGN_OR_RETURN(l.wk, get(p + "attn_k.weight"));
    MS_ASSIGN_OR_RETURN(l.wv, get(p + "attn_v.weight"));
    MS_ASSIGN_OR_RETURN(l.wo, get(p + "attn_output.weight"));
    MS_ASSIGN_OR_RETURN(l.ffn_norm, get(p + "ffn_norm.weight"));
    MS_ASSIGN_OR_RETURN(l.ffn_gate, get(p + "ffn_gate.weight"));
    MS_ASSIGN_OR_RETURN(l.ffn_up, get(p + "ffn_up.weight"));
    MS_ASSIGN_OR_RETURN(l.ffn_down, get(p + "ffn_down.weight"));
    MS_ASSIGN_OR_RETURN(l.bq, get(p + "attn_q.bias"));
    MS_ASSIGN_OR_RETURN(l.bk, get(p + "attn_k.bias"));
    MS_ASSIGN_OR_RETURN(l.bv, get(p + "attn_v.bias"));
    MS_ASSIGN_OR_RETURN(l.q_norm, get(p + "attn_q_norm.weight"));
    MS_ASSIGN_OR_RETURN(l.k_norm, get(p + "attn_k_norm.weight"));
    MS_ASSIGN_OR_RETURN(l.post_attn_norm, get(p + "post_attention_norm.weight"));
    MS_ASSIGN_OR_RETURN(l.post_ffn_norm, get(p + "post_ffw_norm.weight"));
    w.layers.push_back(std::move(l));
  }
  const uint32_t n_vocab = static_cast<uint32_t>(w.token_embd.rows);
  MS_ASSIGN_OR_RETURN(ModelConfig c, config_of(hc, n_vocab));

  Vocab vocab;
  if (ck.tokenizer_error.empty()) {
    MS_ASSIGN_OR_RETURN(vocab, vocab_from_metadata(ck.metadata));
  } else {
    vocab = placeholder_vocab(n_vocab);
  }
  MS_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::create(std::move(vocab), src + "/tokenizer.json"));
  return std::make_shared<const Model>(std::move(c), std::move(w), std::move(tok),
                                       std::shared_ptr<const void>(storage, storage.get()), src);
}

Result<std::shared_ptr<const Model>> load_any_model(const std::filesystem::path& path,
                                                    const HfLoadOptions& o) {
  if (is_hf_checkpoint_dir(path)) return load_hf_model(path, o);
  return load_model(path);
}

}  // namespace modelswarm
