// GGUF -> Model: reads the header, checks every tensor the architecture needs (type, shape),
// and points the weights into a read-only memory map of the file.
#include <cmath>
#include <memory>

#include "modelswarm/gguf.hpp"
#include "util/file_io.hpp"
#include "modelswarm/infer.hpp"

namespace modelswarm {

namespace {

struct Loader {
  const GgufFile& file;
  const uint8_t* base;
  std::string src;

  Error missing(const std::string& name) const {
    return Error::format(src + ": tensor " + name + " is missing");
  }

  // A matrix of `rows` x `cols` (GGUF dims {cols, rows}); rows == 0: any row count.
  Result<WeightTensor> matrix(const std::string& name, uint64_t rows, uint64_t cols, bool required = true) const {
    const GgufTensorInfo* t = file.find_tensor(name);
    if (!t) {
      if (required) return missing(name);
      return WeightTensor{};
    }
    if (!weight_type_supported(t->type)) {
      const std::string runs = ggml_type_names([](const GgmlTypeTraits& g) { return g.engine; });
      return Error::unsupported(src + ": tensor " + name + " has type " + ggml_type_name(t->type) +
                                ", which modelswarm cannot run (supported: " + runs + ")");
    }
    uint64_t c = t->dims.empty() ? 1 : t->dims[0];
    uint64_t r = 1;
    for (size_t i = 1; i < t->dims.size(); ++i) r *= t->dims[i];
    if (c != cols || (rows != 0 && r != rows)) {
      return Error::format(src + ": tensor " + name + " has shape " + std::to_string(c) + "x" +
                           std::to_string(r) + ", expected " + std::to_string(cols) + "x" +
                           (rows ? std::to_string(rows) : std::string("N")));
    }
    auto rb = ggml_row_bytes(t->type, c);
    if (!rb || *rb * r != t->size) return Error::format(src + ": tensor " + name + " has an inconsistent size");
    WeightTensor w;
    w.name = name;
    w.type = t->type;
    w.data = base + file.absolute_offset(*t);
    w.rows = r;
    w.cols = c;
    w.row_bytes = *rb;
    return w;
  }

  // Norm weights and biases are applied as floats.
  Result<WeightTensor> vector(const std::string& name, uint64_t n, bool required = true) const {
    MS_ASSIGN_OR_RETURN(WeightTensor w, matrix(name, 1, n, required));
    if (w.present() && w.type != GgmlType::F32)
      return Error::unsupported(src + ": tensor " + name + " must be F32");
    return w;
  }
};

Result<ModelConfig> read_config(const GgufFile& f, const std::string& src) {
  const Metadata& md = f.metadata;
  ModelConfig c;
  MS_ASSIGN_OR_RETURN(c.arch_name, md.get_string("general.architecture"));
  const ArchitectureInfo* arch = find_architecture(c.arch_name);
  if (!arch)
    return Error::unsupported(src + ": architecture '" + c.arch_name + "' is not supported (" +
                              supported_architectures() + ")");
  c.arch = arch->arch;
  c.rope_mode = arch->rope;
  const std::string a = c.arch_name + ".";
  MS_ASSIGN_OR_RETURN(c.n_embd, md.get_u32(a + "embedding_length"));
  MS_ASSIGN_OR_RETURN(c.n_layer, md.get_u32(a + "block_count"));
  MS_ASSIGN_OR_RETURN(c.n_ff, md.get_u32(a + "feed_forward_length"));
  MS_ASSIGN_OR_RETURN(c.n_head, md.get_u32(a + "attention.head_count"));
  c.n_head_kv = md.u32_or(a + "attention.head_count_kv", c.n_head);
  c.n_ctx_train = md.u32_or(a + "context_length", 2048);
  MS_ASSIGN_OR_RETURN(c.rms_eps, md.get_f32(a + "attention.layer_norm_rms_epsilon"));
  c.rope_freq_base = md.f32_or(a + "rope.freq_base", 10000.0f);
  if (c.n_embd == 0 || c.n_layer == 0 || c.n_ff == 0 || c.n_head == 0 || c.n_head_kv == 0 ||
      c.n_head % c.n_head_kv != 0 || c.n_layer > 4096 || c.n_embd > (1u << 20) || c.n_ff > (1u << 22) ||
      c.n_head > 4096)
    return Error::format(src + ": inconsistent model dimensions in metadata");
  // Heads may be wider or narrower than n_embd / n_head (Qwen3-0.6B: 16 heads of 128 in 1024).
  if (!md.contains(a + "attention.key_length") && c.n_embd % c.n_head != 0)
    return Error::format(src + ": embedding_length is not a multiple of head_count and key_length is missing");
  c.head_dim = md.u32_or(a + "attention.key_length", c.n_embd / c.n_head);
  if (c.head_dim == 0 || c.head_dim % 2 != 0 || c.head_dim > 1024)
    return Error::unsupported(src + ": head size " + std::to_string(c.head_dim) + " is not supported");
  if (md.u32_or(a + "attention.value_length", c.head_dim) != c.head_dim)
    return Error::unsupported(src + ": attention.value_length differs from key_length");
  c.n_rot = md.u32_or(a + "rope.dimension_count", c.head_dim);
  if (c.n_rot == 0 || c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    return Error::format(src + ": rope.dimension_count " + std::to_string(c.n_rot) + " is invalid");
  if (!(c.rms_eps > 0) || !std::isfinite(c.rms_eps) || !(c.rope_freq_base > 0) || !std::isfinite(c.rope_freq_base))
    return Error::format(src + ": invalid rms epsilon or rope frequency base");

  std::string scaling = md.string_or(a + "rope.scaling.type", "");
  float factor = md.f32_or(a + "rope.scaling.factor", 0.0f);
  if (scaling.empty() && md.contains(a + "rope.scale_linear")) {
    scaling = "linear";
    factor = md.f32_or(a + "rope.scale_linear", 1.0f);
  }
  if (scaling == "linear") {
    if (!(factor > 0) || !std::isfinite(factor))
      return Error::format(src + ": rope.scaling.factor must be positive");
    c.rope_freq_scale = 1.0f / factor;
  } else if (!scaling.empty() && scaling != "none") {
    return Error::unsupported(src + ": rope scaling '" + scaling + "' is not supported (linear)");
  }
  if (arch->swa_pattern) {
    MS_ASSIGN_OR_RETURN(c.n_swa, md.get_u32(a + "attention.sliding_window"));
    if (c.n_swa == 0) return Error::format(src + ": attention.sliding_window must be positive");
    c.swa_pattern = arch->swa_pattern;
  }
  // gemma3 scales scores by 1/sqrt(query_pre_attn_scalar), which the GGUF does not carry:
  // head_dim, except Gemma 3 27B (62 layers), where it is n_embd / n_head (llama.cpp decides so too).
  if (c.arch == Architecture::gemma3 && c.n_layer == 62)
    c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head));
  return c;
}

}  // namespace

Result<std::shared_ptr<const Model>> load_model(const std::filesystem::path& path) {
  const std::string src = path.string();
  MS_ASSIGN_OR_RETURN(GgufFile file, read_gguf(path));
  MS_ASSIGN_OR_RETURN(ModelConfig c, read_config(file, src));
  MS_ASSIGN_OR_RETURN(file_io::MappedFile mapped, file_io::MappedFile::open(path));
  if (mapped.size() == 0) return Error::format(src + ": file is empty");
  if (mapped.size() != file.file_size) return Error::io(src + ": file changed while loading");
  // Shared: the model's weights point into the map for as long as the model lives.
  auto map = std::make_shared<const file_io::MappedFile>(std::move(mapped));

  Loader L{file, map->data(), src};
  ModelWeights w;
  MS_ASSIGN_OR_RETURN(w.token_embd, L.matrix("token_embd.weight", 0, c.n_embd));
  if (w.token_embd.rows == 0 || w.token_embd.rows > INT32_MAX)
    return Error::format(src + ": token_embd.weight has no rows");
  c.n_vocab = static_cast<uint32_t>(w.token_embd.rows);
  MS_ASSIGN_OR_RETURN(w.output_norm, L.vector("output_norm.weight", c.n_embd));
  MS_ASSIGN_OR_RETURN(w.output, L.matrix("output.weight", c.n_vocab, c.n_embd, false));
  if (!w.output.present()) {
    w.output = w.token_embd;
    w.tied_embeddings = true;
  }
  MS_ASSIGN_OR_RETURN(w.rope_freqs, L.vector("rope_freqs.weight", c.n_rot / 2, false));

  const uint64_t q_dim = uint64_t(c.n_head) * c.head_dim;
  const uint64_t kv_dim = uint64_t(c.n_head_kv) * c.head_dim;
  const ArchitectureInfo& info = architecture_info(c.arch);
  for (uint32_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights l;
    MS_ASSIGN_OR_RETURN(l.attn_norm, L.vector(p + "attn_norm.weight", c.n_embd));
    MS_ASSIGN_OR_RETURN(l.wq, L.matrix(p + "attn_q.weight", q_dim, c.n_embd));
    MS_ASSIGN_OR_RETURN(l.wk, L.matrix(p + "attn_k.weight", kv_dim, c.n_embd));
    MS_ASSIGN_OR_RETURN(l.wv, L.matrix(p + "attn_v.weight", kv_dim, c.n_embd));
    MS_ASSIGN_OR_RETURN(l.wo, L.matrix(p + "attn_output.weight", c.n_embd, q_dim));
    MS_ASSIGN_OR_RETURN(l.ffn_norm, L.vector(p + "ffn_norm.weight", c.n_embd));
    MS_ASSIGN_OR_RETURN(l.ffn_gate, L.matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd));
    MS_ASSIGN_OR_RETURN(l.ffn_up, L.matrix(p + "ffn_up.weight", c.n_ff, c.n_embd));
    MS_ASSIGN_OR_RETURN(l.ffn_down, L.matrix(p + "ffn_down.weight", c.n_embd, c.n_ff));
    MS_ASSIGN_OR_RETURN(l.bq, L.vector(p + "attn_q.bias", q_dim, info.qkv_bias));
    MS_ASSIGN_OR_RETURN(l.bk, L.vector(p + "attn_k.bias", kv_dim, info.qkv_bias));
    MS_ASSIGN_OR_RETURN(l.bv, L.vector(p + "attn_v.bias", kv_dim, info.qkv_bias));
    MS_ASSIGN_OR_RETURN(l.q_norm, L.vector(p + "attn_q_norm.weight", c.head_dim, info.qk_norm));
    MS_ASSIGN_OR_RETURN(l.k_norm, L.vector(p + "attn_k_norm.weight", c.head_dim, info.qk_norm));
    MS_ASSIGN_OR_RETURN(l.post_attn_norm, L.vector(p + "post_attention_norm.weight", c.n_embd, info.gemma));
    MS_ASSIGN_OR_RETURN(l.post_ffn_norm, L.vector(p + "post_ffw_norm.weight", c.n_embd, info.gemma));
    w.layers.push_back(std::move(l));
  }

  MS_ASSIGN_OR_RETURN(Vocab vocab, vocab_from_metadata(file.metadata));
  MS_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::create(std::move(vocab), src));
  if (static_cast<uint64_t>(tok.n_vocab()) > c.n_vocab)
    return Error::format(src + ": tokenizer has more tokens than token_embd.weight has rows");
  return std::make_shared<const Model>(std::move(c), std::move(w), std::move(tok), std::move(map), src);
}

}  // namespace modelswarm
