// make_test_model: writes a small (or TinyLlama-sized) llama / qwen2 / qwen3 / gemma3 model, deterministic from
// --seed, as GGUF (with a llama.cpp-style tokenizer in the metadata) and/or as an HF-style
// directory (safetensors, optionally sharded, + config.json + tokenizer.json). The GGUF and
// safetensors copies hold the same weights (up to the GGUF type's quantization).
//
//   make_test_model --gguf m.gguf --hf-dir hf/ --seed 7 --type Q4_0 --output-type Q6_K
//
// Prints a one-line JSON summary on stdout. Exit: 0 ok, 2 bad options, 1 failure.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "modelswarm/gguf_writer.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"
#include "modelswarm/safetensors_writer.hpp"
#include "test_model/hf_files.hpp"
#include "test_model/spec.hpp"
#include "test_model/vocab.hpp"
#include "test_model/weights.hpp"

using namespace modelswarm;
using namespace testmodel;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kChunkElements = 1 << 22;  // rows generated per write, ~16 MB of floats

// The weight types a model may use: those the engine runs.
std::string engine_type_names() {
  return ggml_type_names([](const GgmlTypeTraits& t) { return t.engine; }, " ");
}

// Runs fn(begin, end) over [0, n) split across `threads`.
template <class Fn>
void parallel_rows(uint64_t n, unsigned threads, Fn fn) {
  if (threads <= 1 || n < 2) {
    fn(uint64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  uint64_t per = (n + threads - 1) / threads;
  for (unsigned t = 0; t < threads; ++t) {
    uint64_t b = t * per, e = std::min(n, b + per);
    if (b >= e) break;
    pool.emplace_back([=] { fn(b, e); });
  }
  for (auto& th : pool) th.join();
}

// Encodes `rows` rows starting at `row0` of tensor `t` into `out`, each row produced by
// `encode(src_row_floats, dst)`; `gguf` selects the GGUF row order (Q/K permutation).
template <class Encode>
void produce_rows(const Options& o, const TensorSpec& t, bool gguf, uint64_t row0, uint64_t rows,
                  uint64_t row_bytes, uint8_t* out, Encode encode) {
  parallel_rows(rows, o.threads, [&](uint64_t b, uint64_t e) {
    std::vector<float> buf(t.cols());
    for (uint64_t r = b; r < e; ++r) {
      uint64_t row = row0 + r;
      if (gguf && t.permute_head_dim) row = hf_row_for_gguf_row(row, t.permute_head_dim);
      generate_row(o.seed, t.hf_name, row, t.dist, buf.data(), buf.size());
      if (!gguf && t.hf_add != 0)
        for (float& x : buf) x += t.hf_add;
      encode(buf.data(), out + r * row_bytes, buf.size());
    }
  });
}

Metadata gguf_metadata(const Options& o, const Vocab& v, GgmlType wtype) {
  Metadata m;
  const std::string a = o.arch;
  m.set("general.architecture", MetaValue::string(a));
  m.set("general.name", MetaValue::string(o.name));
  m.set("general.file_type", MetaValue::u32(llama_file_type(wtype)));
  if (ggml_type_traits(static_cast<uint32_t>(wtype))->block_elements > 1)
    m.set("general.quantization_version", MetaValue::u32(2));
  m.set(a + ".vocab_size", MetaValue::u32(o.vocab));
  m.set(a + ".context_length", MetaValue::u32(o.context));
  m.set(a + ".embedding_length", MetaValue::u32(o.dim));
  m.set(a + ".block_count", MetaValue::u32(o.layers));
  m.set(a + ".feed_forward_length", MetaValue::u32(o.ffn));
  m.set(a + ".attention.head_count", MetaValue::u32(o.heads));
  m.set(a + ".attention.head_count_kv", MetaValue::u32(o.kv_heads));
  m.set(a + ".rope.dimension_count", MetaValue::u32(o.head_dim()));
  if (o.explicit_head_dim()) {
    m.set(a + ".attention.key_length", MetaValue::u32(o.head_dim()));
    m.set(a + ".attention.value_length", MetaValue::u32(o.head_dim()));
  }
  m.set(a + ".rope.freq_base", MetaValue::f32(static_cast<float>(o.rope_base)));
  if (o.arch == "gemma3") m.set(a + ".attention.sliding_window", MetaValue::u32(o.sliding_window));
  m.set(a + ".attention.layer_norm_rms_epsilon", MetaValue::f32(static_cast<float>(o.rms_eps)));
  m.set("tokenizer.ggml.model", MetaValue::string(v.model));
  if (v.model == "gpt2")
    m.set("tokenizer.ggml.pre", MetaValue::string(o.arch != "llama" ? "qwen2" : "gpt-2"));
  m.set("tokenizer.ggml.tokens", MetaValue::string_array(v.tokens));
  if (!v.scores.empty()) m.set("tokenizer.ggml.scores", MetaValue::f32_array(v.scores));
  m.set("tokenizer.ggml.token_type", MetaValue::i32_array(v.types));
  if (v.model == "gpt2") m.set("tokenizer.ggml.merges", MetaValue::string_array(v.merges));
  m.set("tokenizer.ggml.bos_token_id", MetaValue::u32(v.bos));
  m.set("tokenizer.ggml.eos_token_id", MetaValue::u32(v.eos));
  if (v.has_unk) m.set("tokenizer.ggml.unknown_token_id", MetaValue::u32(v.unk));
  m.set("tokenizer.ggml.add_bos_token", MetaValue::boolean(v.model == "llama"));
  m.set("tokenizer.ggml.add_eos_token", MetaValue::boolean(false));
  return m;
}

Status write_gguf(const Options& o, const Vocab& v, const std::vector<TensorSpec>& tensors,
                  GgmlType wtype) {
  GgufWriter w;
  w.metadata() = gguf_metadata(o, v, wtype);
  for (const auto& t : tensors) MS_TRY(w.add_tensor(t.gguf_name, t.gguf_type, t.gguf_dims()));
  MS_TRY(w.begin(o.gguf_path));
  std::vector<uint8_t> out;
  for (const auto& t : tensors) {
    const uint64_t row_bytes = *ggml_row_bytes(t.gguf_type, t.cols());
    const uint64_t chunk_rows = std::max<uint64_t>(1, kChunkElements / t.cols());
    for (uint64_t r0 = 0; r0 < t.rows(); r0 += chunk_rows) {
      uint64_t rows = std::min(chunk_rows, t.rows() - r0);
      out.resize(rows * row_bytes);
      produce_rows(o, t, true, r0, rows, row_bytes, out.data(),
                   [&](const float* src, uint8_t* dst, size_t n) {
                     // Cannot fail: type and row length were checked when the options were.
                     (void)quantize_row(t.gguf_type, src, dst, n);
                   });
      MS_TRY(w.write_data(out));
    }
  }
  return w.finish();
}

void encode_st(const std::string& dtype, const float* src, uint8_t* dst, size_t n) {
  if (dtype == "F32") {
    std::memcpy(dst, src, n * 4);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = dtype == "F16" ? fp32_to_fp16(src[i]) : fp32_to_bf16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

Status write_hf(const Options& o, const Vocab& v, const std::vector<TensorSpec>& tensors) {
  fs::create_directories(o.hf_dir);
  const uint64_t esize = o.st_dtype == "F32" ? 4 : 2;
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.rows() * t.cols() * esize;
  // Consecutive tensors per shard, each shard about total / shards bytes.
  std::vector<std::vector<const TensorSpec*>> shards(o.shards);
  uint64_t acc = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    size_t left_tensors = tensors.size() - i;
    size_t s = std::min<size_t>(o.shards - 1, acc * o.shards / std::max<uint64_t>(total, 1));
    // Keep enough tensors for the remaining shards to be non-empty.
    for (size_t k = 0; k < o.shards; ++k)
      if (shards[k].empty() && k < s) s = k;
    if (o.shards - s > left_tensors) s = o.shards - left_tensors;
    shards[s].push_back(&tensors[i]);
    acc += tensors[i].rows() * tensors[i].cols() * esize;
  }
  std::map<std::string, std::string> weight_map;
  std::vector<uint8_t> out;
  for (uint32_t s = 0; s < o.shards; ++s) {
    char name[64];
    if (o.shards == 1) std::snprintf(name, sizeof name, "model.safetensors");
    else std::snprintf(name, sizeof name, "model-%05u-of-%05u.safetensors", s + 1, o.shards);
    SafetensorsWriter w;
    w.set_metadata("format", "pt");
    for (const auto* t : shards[s]) {
      MS_TRY(w.add_tensor(t->hf_name, o.st_dtype, t->hf_shape));
      weight_map[t->hf_name] = name;
    }
    MS_TRY(w.begin(fs::path(o.hf_dir) / name));
    for (const auto* t : shards[s]) {
      const uint64_t row_bytes = t->cols() * esize;
      const uint64_t chunk_rows = std::max<uint64_t>(1, kChunkElements / t->cols());
      for (uint64_t r0 = 0; r0 < t->rows(); r0 += chunk_rows) {
        uint64_t rows = std::min(chunk_rows, t->rows() - r0);
        out.resize(rows * row_bytes);
        produce_rows(o, *t, false, r0, rows, row_bytes, out.data(),
                     [&](const float* src, uint8_t* dst, size_t n) { encode_st(o.st_dtype, src, dst, n); });
        MS_TRY(w.write_data(out));
      }
    }
    MS_TRY(w.finish());
  }
  if (o.shards > 1)
    MS_TRY(write_safetensors_index(fs::path(o.hf_dir) / kSafetensorsIndexName, weight_map, total));
  const fs::path dir(o.hf_dir);
  if (!write_json((dir / "config.json").string(), hf_config(o, v)) ||
      !write_json((dir / "tokenizer.json").string(), hf_tokenizer(v, o.arch != "llama" ? "qwen2" : "gpt-2")) ||
      !write_json((dir / "tokenizer_config.json").string(), hf_tokenizer_config(v)) ||
      !write_json((dir / "generation_config.json").string(),
                  {{"bos_token_id", v.bos}, {"eos_token_id", v.eos}}))
    return Error::io(o.hf_dir + ": cannot write the JSON files");
  return {};
}

// Returns an error message, or "" when the options describe a model we can write.
std::string check(Options& o, GgmlType& wtype, GgmlType& otype) {
  if (o.gguf_path.empty() && o.hf_dir.empty()) return "give --gguf PATH and/or --hf-dir DIR";
  if (o.arch != "llama" && o.arch != "qwen2" && o.arch != "qwen3" && o.arch != "gemma3")
    return "--arch must be llama, qwen2, qwen3 or gemma3";
  if (o.arch == "gemma3" && o.sliding_window == 0) return "--sliding-window must be > 0";
  if (o.tokenizer != "llama" && o.tokenizer != "gpt2") return "--tokenizer must be llama or gpt2";
  if (o.kv_heads == 0) o.kv_heads = o.heads;
  if (o.ffn == 0) o.ffn = 3 * o.dim;
  if (o.output_type.empty()) o.output_type = o.type;
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  if (o.dim == 0 || o.heads == 0 || o.layers == 0 || o.context == 0) return "sizes must be > 0";
  if (o.head_dim_set == 0 && o.dim % o.heads != 0) return "--dim must be a multiple of --heads (or give --head-dim)";
  if (o.head_dim() % 2 != 0) return "head dimension must be even for RoPE";
  if (o.heads % o.kv_heads != 0) return "--heads must be a multiple of --kv-heads";
  if (o.vocab < 300) return "--vocab must be at least 300";
  auto parse_type = [](const std::string& s, GgmlType& out) {
    auto t = ggml_type_from_name(s);
    if (!t || !matmul_supported(*t)) return false;
    out = *t;
    return true;
  };
  if (!parse_type(o.type, wtype)) return "--type must be one of " + engine_type_names();
  if (!parse_type(o.output_type, otype))
    return "--output-type must be one of " + engine_type_names();
  auto block = [](GgmlType t) { return ggml_type_traits(static_cast<uint32_t>(t))->block_elements; };
  if (o.dim % block(wtype) || o.ffn % block(wtype) || o.dim % block(otype))
    return "--dim and --ffn must be multiples of the block size of --type/--output-type (" +
           std::to_string(std::max(block(wtype), block(otype))) + ")";
  if (o.st_dtype != "F32" && o.st_dtype != "F16" && o.st_dtype != "BF16")
    return "--safetensors-dtype must be F32, F16 or BF16";
  if (o.shards == 0) return "--shards must be >= 1";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Writes a deterministic llama/qwen2/qwen3/gemma3 test model as GGUF and/or HF safetensors"};
  app.add_option("--gguf", o.gguf_path, "Write a GGUF file here");
  app.add_option("--hf-dir", o.hf_dir, "Write safetensors + config.json + tokenizer.json here");
  app.add_option("--seed", o.seed, "Random seed (same seed, same bytes)");
  app.add_option("--arch", o.arch,
                 "llama | qwen2 (q/k/v biases, NEOX RoPE) | qwen3 (QK-norm, NEOX RoPE) | gemma3 (QK-norm, "
                 "post-norms, GELU, sliding window on 5 layers of 6)");
  app.add_option("--sliding-window", o.sliding_window, "gemma3: attention.sliding_window (default 8)");
  app.add_option("--head-dim", o.head_dim_set, "Head size (default dim / heads; qwen3 models often differ)");
  app.add_option("--dim", o.dim, "Embedding length");
  app.add_option("--layers", o.layers, "Transformer blocks");
  app.add_option("--heads", o.heads, "Attention heads");
  app.add_option("--kv-heads", o.kv_heads, "Key/value heads (GQA); default = heads");
  app.add_option("--ffn", o.ffn, "Feed-forward length; default 3 x dim");
  app.add_option("--vocab", o.vocab, "Vocabulary size (>= 300)");
  app.add_option("--context", o.context, "Context length");
  app.add_option("--type", o.type, "GGUF type of the weight matrices: " + engine_type_names());
  app.add_option("--output-type", o.output_type, "GGUF type of output.weight (default --type; Q6_K like real Q4_0 files)");
  app.add_flag("--tied", o.tied, "Tie output to the token embeddings (no output.weight)");
  app.add_option("--tokenizer", o.tokenizer, "llama (SentencePiece, scores, byte tokens) | gpt2 (byte-level BPE, merges)");
  app.add_option("--rope-base", o.rope_base, "RoPE frequency base");
  app.add_option("--rms-eps", o.rms_eps, "RMSNorm epsilon");
  app.add_option("--name", o.name, "general.name");
  app.add_option("--shards", o.shards, "safetensors shards (> 1 writes model.safetensors.index.json)");
  app.add_option("--safetensors-dtype", o.st_dtype, "F32 | F16 | BF16");
  app.add_option("--threads", o.threads, "Worker threads (default: all cores)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  GgmlType wtype{}, otype{};
  if (std::string err = check(o, wtype, otype); !err.empty()) {
    std::fprintf(stderr, "make_test_model: %s\n", err.c_str());
    return 2;
  }
  Vocab vocab = o.tokenizer == "llama" ? make_llama_vocab(o.vocab) : make_gpt2_vocab(o.vocab);
  std::vector<TensorSpec> tensors = model_tensors(o, wtype, otype);
  if (o.shards > tensors.size()) {
    std::fprintf(stderr, "make_test_model: --shards is larger than the tensor count %zu\n", tensors.size());
    return 2;
  }
  if (!o.gguf_path.empty()) {
    if (Status s = write_gguf(o, vocab, tensors, wtype); !s.ok()) {
      std::fprintf(stderr, "make_test_model: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  if (!o.hf_dir.empty()) {
    if (Status s = write_hf(o, vocab, tensors); !s.ok()) {
      std::fprintf(stderr, "make_test_model: %s\n", s.error().message.c_str());
      return 1;
    }
  }
  uint64_t params = 0;
  for (const auto& t : tensors) params += t.rows() * t.cols();
  nlohmann::json summary = {{"gguf", o.gguf_path}, {"hf_dir", o.hf_dir}, {"arch", o.arch},
                            {"parameters", params}, {"tensors", tensors.size()},
                            {"vocab", vocab.tokens.size()}, {"bos", vocab.bos}, {"eos", vocab.eos}};
  std::printf("%s\n", summary.dump().c_str());
  return 0;
}
