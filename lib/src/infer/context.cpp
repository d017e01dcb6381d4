// The forward pass. A batch of tokens goes through every layer together, so each weight matrix
// is read once per batch (matmul) — once per token when decoding (matvec).
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <span>
#include <thread>

#include "infer/attention.hpp"
#include "infer/rope.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"
#include "modelswarm/thread_pool.hpp"
#include "util/parallel_jobs.hpp"

namespace modelswarm {

namespace {

constexpr uint32_t kMaxBatch = 512;  // tokens per pass; longer prompts run in several passes

MatrixView view(const WeightTensor& w) {
  return MatrixView{w.type, w.data, static_cast<size_t>(w.rows), static_cast<size_t>(w.cols),
                    static_cast<size_t>(w.row_bytes)};
}

const float* f32(const WeightTensor& w) { return static_cast<const float*>(w.data); }

}  // namespace

struct Context::Impl {
  std::shared_ptr<const Model> model;
  const ModelConfig& c;
  uint32_t n_ctx;
  uint32_t n_past = 0;
  std::unique_ptr<ThreadPool> pool;
  uint32_t kv_dim, q_dim;
  std::vector<uint16_t> k_cache, v_cache;  // [layer][pos][kv_dim], F16
  // Scratch, sized for kMaxBatch tokens.
  std::vector<float> x, xn, q, k, v, att, ffa, ffb, rope, rope_local, logits;
  const bool gemma;

  Impl(std::shared_ptr<const Model> m, uint32_t ctx, uint32_t threads)
      : model(std::move(m)),
        c(model->config()),
        n_ctx(ctx),
        pool(std::make_unique<ThreadPool>(threads)),
        gemma(architecture_info(c.arch).gemma) {
    kv_dim = c.n_head_kv * c.head_dim;
    q_dim = c.n_head * c.head_dim;
    k_cache.assign(size_t(c.n_layer) * n_ctx * kv_dim, 0);
    v_cache.assign(size_t(c.n_layer) * n_ctx * kv_dim, 0);
  }

  void reserve(uint32_t n) {
    auto grow = [](std::vector<float>& b, size_t size) {
      if (b.size() < size) b.resize(size);
    };
    grow(x, size_t(n) * c.n_embd);
    grow(xn, size_t(n) * c.n_embd);
    grow(q, size_t(n) * q_dim);
    grow(k, size_t(n) * kv_dim);
    grow(v, size_t(n) * kv_dim);
    grow(att, size_t(n) * q_dim);
    grow(ffa, size_t(n) * c.n_ff);
    grow(ffb, size_t(n) * c.n_ff);
    grow(rope, size_t(n) * c.n_rot);
    if (c.n_swa) grow(rope_local, size_t(n) * c.n_rot);
  }

  Status linear(const WeightTensor& w, const float* in, size_t in_stride, uint32_t n, float* out,
                size_t out_stride) {
    if (n == 1) return matvec(view(w), in, out, pool.get());
    return matmul(view(w), in, n, in_stride, out, out_stride, pool.get());
  }

  // Matrices that read the same input (q/k/v, gate/up): when decoding, one call converts the
  // input once and gives the pool all their rows at once.
  struct Projection {
    const WeightTensor* w;
    float* out;
    size_t out_stride;
  };
  Status linear_same_input(std::initializer_list<Projection> ps, const float* in, size_t in_stride,
                           uint32_t n) {
    if (n == 1 && ps.size() <= 3) {
      MatrixView views[3];
      float* outs[3];
      size_t i = 0;
      for (const Projection& p : ps) views[i] = view(*p.w), outs[i++] = p.out;
      return matvec_multi(std::span(views, i), in, std::span(outs, i), pool.get());
    }
    for (const Projection& p : ps) MS_TRY(linear(*p.w, in, in_stride, n, p.out, p.out_stride));
    return Status::success();
  }

  void add_bias(const WeightTensor& b, float* y, uint32_t n, size_t dim) {
    if (!b.present()) return;
    for (uint32_t t = 0; t < n; ++t)
      for (size_t i = 0; i < dim; ++i) y[t * dim + i] += f32(b)[i];
  }

  // QK-norm (qwen3, gemma3): each head of q or k (`heads` of head_dim, contiguous) RMS-normalised with
  // the same weights, before RoPE.
  void head_norm(const WeightTensor& w, float* x, size_t heads) {
    if (!w.present()) return;
    for (size_t h = 0; h < heads; ++h)
      rmsnorm_f32(x + h * c.head_dim, f32(w), x + h * c.head_dim, c.head_dim, c.rms_eps);
  }

  // gemma3's post-norms: the block's output normalised before the residual add.
  void post_norm(const WeightTensor& w, float* y, uint32_t n) {
    if (w.present()) norm(y, w, y, n);
  }

  void norm(const float* in, const WeightTensor& w, float* out, uint32_t n) {
    for (uint32_t t = 0; t < n; ++t)
      rmsnorm_f32(in + size_t(t) * c.n_embd, f32(w), out + size_t(t) * c.n_embd, c.n_embd, c.rms_eps);
  }

  // x <- the embeddings of `n` tokens (gemma: scaled by sqrt(n_embd)); the RoPE tables of their
  // positions from p0.
  Status embed(const int32_t* tokens, uint32_t n, uint32_t p0) {
    const ModelWeights& W = model->weights();
    const uint32_t E = c.n_embd;
    for (uint32_t t = 0; t < n; ++t) {
      const WeightTensor& e = W.token_embd;
      MS_TRY(dequantize_row(e.type, static_cast<const uint8_t*>(e.data) + size_t(tokens[t]) * e.row_bytes,
                            x.data() + size_t(t) * E, E));
    }
    if (gemma) {
      const float s = std::sqrt(static_cast<float>(E));
      for (size_t i = 0; i < size_t(n) * E; ++i) x[i] *= s;
    }
    const float* ff = W.rope_freqs.present() ? f32(W.rope_freqs) : nullptr;
    for (uint32_t t = 0; t < n; ++t) {
      infer::rope_cache(c.n_rot, c.rope_freq_base, c.rope_freq_scale, ff, p0 + t, rope.data() + size_t(t) * c.n_rot);
      // Local layers: their own base, and the linear scaling of the global ones does not apply.
      if (c.n_swa)
        infer::rope_cache(c.n_rot, c.rope_freq_base_swa, 1.0f, ff, p0 + t, rope_local.data() + size_t(t) * c.n_rot);
    }
    return Status::success();
  }

  // att <- attention of the `n` tokens' q over layer il's cache (kc, vc), positions up to each
  // token's own (a local layer: only the last n_swa). Every (token, KV head, block of its query
  // heads) is independent. Blocks of up to 8 heads share the K/V rows; smaller ones when there
  // would be fewer blocks than threads.
  void attend_cache(const uint16_t* kc, const uint16_t* vc, uint32_t n, uint32_t p0, bool local) {
    const uint32_t group = c.n_head / c.n_head_kv;
    uint32_t block = std::min<uint32_t>(group, 8);
    auto blocks_per_group = [&] { return (group + block - 1) / block; };
    while (block > 1 && size_t(n) * c.n_head_kv * blocks_per_group() < pool->size()) block /= 2;
    const uint32_t bpg = blocks_per_group();
    const float scale = c.attn_scale > 0 ? c.attn_scale : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    pool->parallel_for(size_t(n) * c.n_head_kv * bpg, 1, [&](size_t b, size_t e) {
      thread_local std::vector<float> scratch_buf;
      const size_t need = infer::attend_scratch_floats(block, n_ctx, c.head_dim);
      if (scratch_buf.size() < need) scratch_buf.resize(need);
      for (size_t i = b; i < e; ++i) {
        const uint32_t t = static_cast<uint32_t>(i / (size_t(c.n_head_kv) * bpg));
        const uint32_t kvh = static_cast<uint32_t>(i / bpg % c.n_head_kv);
        const uint32_t h0 = kvh * group + static_cast<uint32_t>(i % bpg) * block;
        const uint32_t pos = p0 + t, first = local && pos >= c.n_swa ? pos + 1 - c.n_swa : 0;
        infer::AttendArgs a;
        a.q = q.data() + size_t(t) * q_dim + size_t(h0) * c.head_dim;
        a.n_q = std::min(block, (kvh + 1) * group - h0);
        a.k = kc + size_t(first) * kv_dim + size_t(kvh) * c.head_dim;
        a.v = vc + size_t(first) * kv_dim + size_t(kvh) * c.head_dim;
        a.stride = kv_dim;
        a.n_kv = pos + 1 - first;
        a.head_dim = c.head_dim;
        a.scale = scale;
        a.out = att.data() + size_t(t) * q_dim + size_t(h0) * c.head_dim;
        a.scratch = scratch_buf.data();
        infer::attend(a);
      }
    });
  }

  // Layer il's attention block on x: q/k/v, QK-norm, RoPE, the new keys and values into the
  // cache, attention, the output projection (gemma: post-norm) added to x.
  Status attention_block(uint32_t il, uint32_t n, uint32_t p0) {
    const LayerWeights& L = model->weights().layers[il];
    const bool local = layer_is_local(c, il);
    const float* layer_rope = local ? rope_local.data() : rope.data();
    norm(x.data(), L.attn_norm, xn.data(), n);
    MS_TRY(linear_same_input({{&L.wq, q.data(), q_dim}, {&L.wk, k.data(), kv_dim}, {&L.wv, v.data(), kv_dim}},
                             xn.data(), c.n_embd, n));
    add_bias(L.bq, q.data(), n, q_dim);
    add_bias(L.bk, k.data(), n, kv_dim);
    add_bias(L.bv, v.data(), n, kv_dim);
    head_norm(L.q_norm, q.data(), size_t(n) * c.n_head);
    head_norm(L.k_norm, k.data(), size_t(n) * c.n_head_kv);
    for (uint32_t t = 0; t < n; ++t) {
      const float* rc = layer_rope + size_t(t) * c.n_rot;
      infer::rope_apply(q.data() + size_t(t) * q_dim, c.n_head, c.head_dim, c.n_rot, c.rope_mode, rc);
      infer::rope_apply(k.data() + size_t(t) * kv_dim, c.n_head_kv, c.head_dim, c.n_rot, c.rope_mode, rc);
    }
    uint16_t* kc = k_cache.data() + size_t(il) * n_ctx * kv_dim;
    uint16_t* vc = v_cache.data() + size_t(il) * n_ctx * kv_dim;
    infer::store_f16(k.data(), kc + size_t(p0) * kv_dim, size_t(n) * kv_dim);
    infer::store_f16(v.data(), vc + size_t(p0) * kv_dim, size_t(n) * kv_dim);
    attend_cache(kc, vc, n, p0, local);
    MS_TRY(linear(L.wo, att.data(), q_dim, n, xn.data(), c.n_embd));
    post_norm(L.post_attn_norm, xn.data(), n);
    for (size_t i = 0; i < size_t(n) * c.n_embd; ++i) x[i] += xn[i];
    return Status::success();
  }

  // Layer il's feed-forward block on x: gate and up, SiLU (gemma: GELU), down (gemma: post-norm)
  // added to x.
  Status ffn_block(uint32_t il, uint32_t n) {
    const LayerWeights& L = model->weights().layers[il];
    norm(x.data(), L.ffn_norm, xn.data(), n);
    MS_TRY(linear_same_input({{&L.ffn_gate, ffa.data(), c.n_ff}, {&L.ffn_up, ffb.data(), c.n_ff}}, xn.data(),
                             c.n_embd, n));
    // On every thread: at 512 tokens this is 3M exponentials a layer.
    pool->parallel_for(size_t(n) * c.n_ff, 4096, [&](size_t b, size_t e) {
      if (gemma) gelu_mul_f32(ffa.data() + b, ffb.data() + b, ffa.data() + b, e - b);
      else silu_mul_f32(ffa.data() + b, ffb.data() + b, ffa.data() + b, e - b);
    });
    MS_TRY(linear(L.ffn_down, ffa.data(), c.n_ff, n, xn.data(), c.n_embd));
    post_norm(L.post_ffn_norm, xn.data(), n);
    for (size_t i = 0; i < size_t(n) * c.n_embd; ++i) x[i] += xn[i];
    return Status::success();
  }

  // One pass over `n` tokens at positions n_past..; logits for the last `n_out` of them.
  Status forward(const int32_t* tokens, uint32_t n, uint32_t n_out, float* logits_out) {
    const ModelWeights& W = model->weights();
    const uint32_t E = c.n_embd;
    const uint32_t p0 = n_past;
    reserve(n);
    MS_TRY(embed(tokens, n, p0));
    for (uint32_t il = 0; il < c.n_layer; ++il) {
      MS_TRY(attention_block(il, n, p0));
      MS_TRY(ffn_block(il, n));
    }

    n_past += n;
    if (n_out == 0) return Status::success();
    const uint32_t first = n - n_out;
    norm(x.data() + size_t(first) * E, W.output_norm, xn.data(), n_out);
    MS_TRY(linear(W.output, xn.data(), E, n_out, logits_out, c.n_vocab));
    return Status::success();
  }
};

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::create(std::shared_ptr<const Model> model,
                                                 const ContextOptions& options) {
  if (!model) return Error::invalid_argument("no model");
  const ModelConfig& c = model->config();
  uint32_t n_ctx = options.n_ctx;
  if (n_ctx == 0) n_ctx = std::min<uint32_t>(c.n_ctx_train ? c.n_ctx_train : 4096, 4096);
  if (n_ctx > (1u << 20)) return Error::invalid_argument("context size " + std::to_string(n_ctx) + " is too large");
  uint32_t threads = worker_threads(options.n_threads);
  if (threads > 1024) return Error::invalid_argument("too many threads");
  return std::unique_ptr<Context>(new Context(std::make_unique<Impl>(std::move(model), n_ctx, threads)));
}

Result<std::span<const float>> Context::eval(std::span<const int32_t> tokens, bool all_logits) {
  Impl& m = *impl_;
  if (tokens.empty()) return Error::invalid_argument("no tokens to evaluate");
  for (int32_t t : tokens)
    if (t < 0 || static_cast<uint32_t>(t) >= m.c.n_vocab)
      return Error::invalid_argument("token id " + std::to_string(t) + " is out of range (vocabulary of " +
                                     std::to_string(m.c.n_vocab) + ")");
  if (tokens.size() > m.n_ctx - m.n_past)
    return Error::invalid_argument("context is full (" + std::to_string(m.n_ctx) + " tokens)");
  const size_t V = m.c.n_vocab;
  m.logits.resize((all_logits ? tokens.size() : 1) * V);
  for (size_t done = 0; done < tokens.size();) {
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(kMaxBatch, tokens.size() - done));
    bool last = done + n == tokens.size();
    uint32_t n_out = all_logits ? n : (last ? 1 : 0);
    float* out = m.logits.data() + (all_logits ? done * V : 0);
    Status s = m.forward(tokens.data() + done, n, n_out, out);
    if (!s.ok()) return s.error();
    done += n;
  }
  return std::span<const float>(m.logits);
}

uint32_t Context::n_past() const { return impl_->n_past; }
uint32_t Context::n_ctx() const { return impl_->n_ctx; }
uint32_t Context::n_threads() const { return impl_->pool->size(); }
void Context::reset() { impl_->n_past = 0; }
const Model& Context::model() const { return *impl_->model; }
uint64_t Context::kv_cache_bytes() const {
  return (impl_->k_cache.size() + impl_->v_cache.size()) * sizeof(uint16_t);
}

}  // namespace modelswarm
