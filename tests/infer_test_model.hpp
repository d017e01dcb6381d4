// A small random model built in memory (weights quantized with quantize_row), and a
// straightforward reference forward pass over its dequantized weights: naive loops in double,
// with the roundings llama.cpp defines (activations quantized to the weight's dot-product
// format, F16 KV cache, F16 attention probabilities).
#pragma once

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "modelswarm/infer.hpp"
#include "modelswarm/quant.hpp"

namespace mstest {

using namespace modelswarm;

struct TestModelSpec {
  Architecture arch = Architecture::llama;
  uint32_t n_embd = 256, n_layer = 2, n_ff = 512, n_head = 8, n_head_kv = 2, n_vocab = 300;
  uint32_t head_dim = 0;  // 0: n_embd / n_head
  GgmlType layer_type = GgmlType::Q4_0;
  GgmlType embd_type = GgmlType::Q8_0;
  GgmlType output_type = GgmlType::Q6_K;
  bool tied = false;
  float rope_freq_scale = 1.0f;
  bool rope_factors = false;
  uint32_t seed = 1;
  uint32_t n_swa = 8;  // gemma3: sliding window of the local layers
};

// The floats each weight holds after quantization (what the reference multiplies with).
struct RefTensor {
  GgmlType type;
  uint64_t rows, cols;
  std::vector<float> w;  // dequantized
};

struct RefLayer {
  RefTensor attn_norm, wq, wk, wv, wo, ffn_norm, gate, up, down, bq, bk, bv, q_norm, k_norm;
  RefTensor post_attn_norm, post_ffn_norm;
};

struct TestModel {
  std::shared_ptr<const Model> model;
  ModelConfig config;
  RefTensor embd, out_norm, output;
  std::vector<RefLayer> layers;
  std::vector<float> rope_factors;
};

inline Tokenizer test_tokenizer(uint32_t n_vocab) {
  Vocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {2, 3, 3};
  for (uint32_t i = 3; i < n_vocab; ++i) {
    v.tokens.push_back("\xE2\x96\x81w" + std::to_string(i));
    v.types.push_back(1);
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  return std::move(Tokenizer::create(std::move(v)).value());
}

inline TestModel make_test_model(const TestModelSpec& s) {
  struct Storage {
    std::vector<std::vector<uint8_t>> blobs;
  };
  auto storage = std::make_shared<Storage>();
  std::mt19937 rng(s.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);

  // Quantizes a rows x cols random matrix (entries ~ N(0, scale²), or ~ N(mean, scale²)).
  auto make = [&](const std::string& name, GgmlType type, uint64_t rows, uint64_t cols, float scale,
                  float mean, WeightTensor& wt, RefTensor& rt) {
    std::vector<float> src(rows * cols);
    for (float& x : src) x = mean + scale * normal(rng);
    uint64_t rb = *ggml_row_bytes(type, cols);
    storage->blobs.emplace_back(rows * rb);
    auto& blob = storage->blobs.back();
    rt = RefTensor{type, rows, cols, std::vector<float>(rows * cols)};
    for (uint64_t r = 0; r < rows; ++r) {
      REQUIRE(quantize_row(type, src.data() + r * cols, blob.data() + r * rb, cols).ok());
      REQUIRE(dequantize_row(type, blob.data() + r * rb, rt.w.data() + r * cols, cols).ok());
    }
    wt = WeightTensor{name, type, blob.data(), rows, cols, rb};
  };

  TestModel tm;
  ModelConfig& c = tm.config;
  c.arch = s.arch;
  c.arch_name = architecture_info(s.arch).name;
  c.n_embd = s.n_embd;
  c.n_layer = s.n_layer;
  c.n_ff = s.n_ff;
  c.n_head = s.n_head;
  c.n_head_kv = s.n_head_kv;
  c.head_dim = s.head_dim ? s.head_dim : s.n_embd / s.n_head;
  c.n_rot = c.head_dim;
  c.n_vocab = s.n_vocab;
  c.n_ctx_train = 256;
  c.rms_eps = 1e-5f;
  c.rope_freq_base = 10000.0f;
  c.rope_freq_scale = s.rope_freq_scale;
  c.rope_mode = architecture_info(s.arch).rope;
  const bool gemma = s.arch == Architecture::gemma3;
  if (gemma) {  // global layers at gemma3's base; local ones at 10000
    c.rope_freq_base = 1e6f;
    c.n_swa = s.n_swa;
    c.swa_pattern = architecture_info(s.arch).swa_pattern;
  }

  ModelWeights w;
  const uint64_t E = c.n_embd, Q = uint64_t(c.n_head) * c.head_dim, KV = uint64_t(c.n_head_kv) * c.head_dim;
  const float ws = 1.0f / std::sqrt(float(E));
  make("token_embd.weight", s.embd_type, c.n_vocab, E, 1.0f, 0, w.token_embd, tm.embd);
  for (uint32_t i = 0; i < c.n_layer; ++i) {
    LayerWeights l;
    RefLayer r;
    make("attn_norm", GgmlType::F32, 1, E, 0.2f, 1.0f, l.attn_norm, r.attn_norm);
    make("wq", s.layer_type, Q, E, ws, 0, l.wq, r.wq);
    make("wk", s.layer_type, KV, E, ws, 0, l.wk, r.wk);
    make("wv", s.layer_type, KV, E, ws, 0, l.wv, r.wv);
    make("wo", s.layer_type, E, Q, ws, 0, l.wo, r.wo);
    make("ffn_norm", GgmlType::F32, 1, E, 0.2f, 1.0f, l.ffn_norm, r.ffn_norm);
    make("gate", s.layer_type, c.n_ff, E, ws, 0, l.ffn_gate, r.gate);
    make("up", s.layer_type, c.n_ff, E, ws, 0, l.ffn_up, r.up);
    make("down", s.layer_type, E, c.n_ff, 1.0f / std::sqrt(float(c.n_ff)), 0, l.ffn_down, r.down);
    if (s.arch == Architecture::qwen2) {
      make("bq", GgmlType::F32, 1, Q, 0.5f, 0, l.bq, r.bq);
      make("bk", GgmlType::F32, 1, KV, 0.5f, 0, l.bk, r.bk);
      make("bv", GgmlType::F32, 1, KV, 0.5f, 0, l.bv, r.bv);
    }
    if (s.arch == Architecture::qwen3 || gemma) {
      make("q_norm", GgmlType::F32, 1, c.head_dim, 0.2f, 1.0f, l.q_norm, r.q_norm);
      make("k_norm", GgmlType::F32, 1, c.head_dim, 0.2f, 1.0f, l.k_norm, r.k_norm);
    }
    if (gemma) {
      make("post_attn_norm", GgmlType::F32, 1, E, 0.2f, 1.0f, l.post_attn_norm, r.post_attn_norm);
      make("post_ffn_norm", GgmlType::F32, 1, E, 0.2f, 1.0f, l.post_ffn_norm, r.post_ffn_norm);
    }
    w.layers.push_back(l);
    tm.layers.push_back(std::move(r));
  }
  make("output_norm", GgmlType::F32, 1, E, 0.2f, 1.0f, w.output_norm, tm.out_norm);
  if (s.tied) {
    w.output = w.token_embd;
    w.tied_embeddings = true;
    tm.output = tm.embd;
  } else {
    make("output.weight", s.output_type, c.n_vocab, E, 1.0f, 0, w.output, tm.output);
  }
  if (s.rope_factors) {
    RefTensor rf;
    make("rope_freqs", GgmlType::F32, 1, c.n_rot / 2, 0.0f, 1.0f, w.rope_freqs, rf);
    // Factors between 1 and 8, as llama3-style files have for low frequencies.
    float* f = const_cast<float*>(static_cast<const float*>(w.rope_freqs.data));
    for (uint32_t i = 0; i < c.n_rot / 2; ++i) f[i] = 1.0f + 7.0f * float(i) / float(c.n_rot / 2);
    tm.rope_factors.assign(f, f + c.n_rot / 2);
  }
  tm.model = std::make_shared<const Model>(c, std::move(w), test_tokenizer(c.n_vocab), storage, "test-model");
  return tm;
}

// The reference's view of a loaded model: every weight dequantized.
inline RefTensor ref_of(const WeightTensor& w) {
  RefTensor r{w.type, w.rows, w.cols, std::vector<float>(w.rows * w.cols)};
  for (uint64_t i = 0; i < w.rows; ++i)
    REQUIRE(dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + i * w.row_bytes,
                           r.w.data() + i * w.cols, w.cols).ok());
  return r;
}

inline TestModel reference_from(std::shared_ptr<const Model> m) {
  TestModel tm;
  tm.model = m;
  tm.config = m->config();
  const ModelWeights& w = m->weights();
  tm.embd = ref_of(w.token_embd);
  tm.out_norm = ref_of(w.output_norm);
  tm.output = ref_of(w.output);
  for (const LayerWeights& l : w.layers) {
    RefLayer r;
    r.attn_norm = ref_of(l.attn_norm), r.wq = ref_of(l.wq), r.wk = ref_of(l.wk), r.wv = ref_of(l.wv);
    r.wo = ref_of(l.wo), r.ffn_norm = ref_of(l.ffn_norm), r.gate = ref_of(l.ffn_gate), r.up = ref_of(l.ffn_up);
    r.down = ref_of(l.ffn_down);
    using Pair = std::pair<const WeightTensor*, RefTensor*>;
    for (auto [from, to] : std::initializer_list<Pair>{{&l.bq, &r.bq}, {&l.bk, &r.bk}, {&l.bv, &r.bv}, {&l.q_norm, &r.q_norm},
                            {&l.k_norm, &r.k_norm}, {&l.post_attn_norm, &r.post_attn_norm},
                            {&l.post_ffn_norm, &r.post_ffn_norm}})
      if (from->present()) *to = ref_of(*from);
    tm.layers.push_back(std::move(r));
  }
  if (w.rope_freqs.present()) tm.rope_factors = ref_of(w.rope_freqs).w;
  return tm;
}

// ---- reference forward pass ----------------------------------------------------------------

// The activations as the kernels see them for a weight of type `t`.
inline std::vector<float> as_activation(GgmlType t, const std::vector<float>& x) {
  // The type table's activation type (F32: used as they are).
  const GgmlType a = ggml_type_traits(static_cast<uint32_t>(t))->dot_type;
  if (a == GgmlType::F32) return x;
  std::vector<uint8_t> q(*ggml_row_bytes(a, x.size()));
  std::vector<float> out(x.size());
  REQUIRE(quantize_row(a, x.data(), q.data(), x.size()).ok());
  REQUIRE(dequantize_row(a, q.data(), out.data(), x.size()).ok());
  return out;
}

inline std::vector<float> ref_linear(const RefTensor& w, const std::vector<float>& x) {
  std::vector<float> xa = as_activation(w.type, x);
  std::vector<float> y(w.rows);
  for (uint64_t r = 0; r < w.rows; ++r) {
    double acc = 0;
    for (uint64_t i = 0; i < w.cols; ++i) acc += double(w.w[r * w.cols + i]) * xa[i];
    y[r] = float(acc);
  }
  return y;
}

inline std::vector<float> ref_norm(const std::vector<float>& x, const RefTensor& w, float eps) {
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  double inv = 1.0 / std::sqrt(ss / x.size() + eps);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = float(x[i] * inv * w.w[i]);
  return y;
}

inline float f16_round(float x) { return fp16_to_fp32(fp32_to_fp16(x)); }

inline void ref_rope(std::vector<float>& x, uint32_t n_heads, const TestModel& tm, uint32_t pos, double base,
                     double scale) {
  const ModelConfig& c = tm.config;
  for (uint32_t h = 0; h < n_heads; ++h) {
    for (uint32_t i = 0; i < c.n_rot / 2; ++i) {
      double theta = pos * std::pow(base, -2.0 * i / c.n_rot) * scale;
      if (!tm.rope_factors.empty()) theta /= tm.rope_factors[i];
      uint32_t a = c.rope_mode == RopeMode::normal ? 2 * i : i;
      uint32_t b = c.rope_mode == RopeMode::normal ? 2 * i + 1 : i + c.n_rot / 2;
      float* v = x.data() + h * c.head_dim;
      double x0 = v[a], x1 = v[b];
      v[a] = float(x0 * std::cos(theta) - x1 * std::sin(theta));
      v[b] = float(x0 * std::sin(theta) + x1 * std::cos(theta));
    }
  }
}

// Logits at every position of `tokens` (row-major, tokens.size() x n_vocab).
inline std::vector<float> reference_logits(const TestModel& tm, const std::vector<int32_t>& tokens) {
  const ModelConfig& c = tm.config;
  const uint32_t E = c.n_embd, hd = c.head_dim, KV = c.n_head_kv * hd;
  std::vector<std::vector<std::vector<float>>> kc(c.n_layer), vc(c.n_layer);  // [layer][pos]
  std::vector<float> out;
  for (uint32_t pos = 0; pos < tokens.size(); ++pos) {
    std::vector<float> x(tm.embd.w.begin() + size_t(tokens[pos]) * E, tm.embd.w.begin() + size_t(tokens[pos] + 1) * E);
    const bool gemma = c.arch == Architecture::gemma3;
    if (gemma)
      for (float& e : x) e *= std::sqrt(float(E));
    for (uint32_t il = 0; il < c.n_layer; ++il) {
      const RefLayer& L = tm.layers[il];
      // gemma3: all but every 6th layer see the last n_swa positions, with their RoPE base unscaled.
      const bool local = layer_is_local(c, il);
      const uint32_t first = local && pos + 1 > c.n_swa ? pos + 1 - c.n_swa : 0;
      auto xn = ref_norm(x, L.attn_norm, c.rms_eps);
      auto q = ref_linear(L.wq, xn), k = ref_linear(L.wk, xn), v = ref_linear(L.wv, xn);
      if (c.arch == Architecture::qwen2) {
        for (size_t i = 0; i < q.size(); ++i) q[i] += L.bq.w[i];
        for (size_t i = 0; i < k.size(); ++i) k[i] += L.bk.w[i];
        for (size_t i = 0; i < v.size(); ++i) v[i] += L.bv.w[i];
      }
      if (c.arch == Architecture::qwen3 || gemma) {  // QK-norm: each head normalised on its own
        auto per_head = [&](std::vector<float>& x, const RefTensor& w) {
          for (size_t h0 = 0; h0 < x.size(); h0 += hd) {
            std::vector<float> head(x.begin() + h0, x.begin() + h0 + hd);
            head = ref_norm(head, w, c.rms_eps);
            std::copy(head.begin(), head.end(), x.begin() + h0);
          }
        };
        per_head(q, L.q_norm);
        per_head(k, L.k_norm);
      }
      const double base = local ? c.rope_freq_base_swa : c.rope_freq_base, scale = local ? 1.0 : c.rope_freq_scale;
      ref_rope(q, c.n_head, tm, pos, base, scale);
      ref_rope(k, c.n_head_kv, tm, pos, base, scale);
      for (float& e : k) e = f16_round(e);
      for (float& e : v) e = f16_round(e);
      kc[il].push_back(k);
      vc[il].push_back(v);
      std::vector<float> att(size_t(c.n_head) * hd);
      for (uint32_t h = 0; h < c.n_head; ++h) {
        uint32_t kvh = h / (c.n_head / c.n_head_kv);
        std::vector<double> s(pos + 1 - first);
        double mx = -1e300;
        for (uint32_t j = first; j <= pos; ++j) {
          double acc = 0;
          for (uint32_t d = 0; d < hd; ++d) acc += double(f16_round(q[h * hd + d])) * kc[il][j][kvh * hd + d];
          s[j - first] = acc / std::sqrt(double(hd));
          mx = std::max(mx, s[j - first]);
        }
        double sum = 0;
        for (double& e : s) sum += e = std::exp(e - mx);
        for (uint32_t d = 0; d < hd; ++d) {
          double acc = 0;
          for (uint32_t j = first; j <= pos; ++j)
            acc += double(f16_round(float(s[j - first] / sum))) * vc[il][j][kvh * hd + d];
          att[h * hd + d] = float(acc);
        }
      }
      (void)KV;
      auto o = ref_linear(L.wo, att);
      if (gemma) o = ref_norm(o, L.post_attn_norm, c.rms_eps);
      for (uint32_t i = 0; i < E; ++i) x[i] += o[i];
      xn = ref_norm(x, L.ffn_norm, c.rms_eps);
      auto g = ref_linear(L.gate, xn), u = ref_linear(L.up, xn);
      for (size_t i = 0; i < g.size(); ++i) {
        const double a = g[i];
        const double act = gemma ? 0.5 * a * (1 + std::tanh(0.7978845608028654 * (a + 0.044715 * a * a * a)))
                                 : a / (1.0 + std::exp(-a));
        g[i] = float(act * u[i]);
      }
      auto dn = ref_linear(L.down, g);
      if (gemma) dn = ref_norm(dn, L.post_ffn_norm, c.rms_eps);
      for (uint32_t i = 0; i < E; ++i) x[i] += dn[i];
    }
    auto xn = ref_norm(x, tm.out_norm, c.rms_eps);
    auto logits = ref_linear(tm.output, xn);
    out.insert(out.end(), logits.begin(), logits.end());
  }
  return out;
}

}  // namespace mstest
