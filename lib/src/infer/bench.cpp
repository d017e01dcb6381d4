#include <algorithm>
#include <chrono>

#include "modelswarm/infer_bench.hpp"
#include "modelswarm/kernel_bench.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

uint64_t layer_matrix_elements(const Model& m) {
  uint64_t n = 0;
  for (const LayerWeights& l : m.weights().layers)
    for (const WeightTensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down})
      n += t->rows * t->cols;
  return n;
}

}  // namespace

Result<InferBenchReport> run_infer_bench(std::shared_ptr<const Model> model, const InferBenchOptions& o) {
  if (!model) return Error::invalid_argument("no model");
  if (o.n_prompt == 0 || o.n_gen == 0) return Error::invalid_argument("bench needs at least one prompt and one generated token");
  const ModelConfig& c = model->config();
  InferBenchReport r;
  r.isa = kernel_isa_name(kernel_isa());
  r.n_prompt = o.n_prompt;
  r.n_gen = o.n_gen;
  MS_ASSIGN_OR_RETURN(auto ctx, Context::create(model, ContextOptions{o.n_prompt + o.n_gen + 1, o.n_threads}));
  r.threads = ctx->n_threads();

  // Fixed, varied token ids (BOS first when the model has one).
  std::vector<int32_t> prompt(o.n_prompt);
  for (uint32_t i = 0; i < o.n_prompt; ++i) prompt[i] = static_cast<int32_t>((1 + 7919u * i) % c.n_vocab);
  if (model->tokenizer().bos() >= 0) prompt[0] = model->tokenizer().bos();

  // Warm-up: pages every weight in and sizes the buffers.
  {
    std::vector<int32_t> warm(prompt.begin(), prompt.begin() + std::min<size_t>(prompt.size(), 8));
    MS_TRY(ctx->eval(warm));
    int32_t one[1] = {prompt[0]};
    MS_TRY(ctx->eval(one));
    ctx->reset();
  }

  auto t0 = std::chrono::steady_clock::now();
  MS_ASSIGN_OR_RETURN(std::span<const float> logits, ctx->eval(prompt));
  r.prefill_tokens_per_s = o.n_prompt / seconds_since(t0);

  int32_t next = argmax(logits);
  auto t1 = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < o.n_gen; ++i) {
    int32_t one[1] = {next};
    MS_ASSIGN_OR_RETURN(logits, ctx->eval(one));
    next = argmax(logits);
  }
  r.decode_tokens_per_s = o.n_gen / seconds_since(t1);

  ThreadPool pool(r.threads);
  // Wall-clock rates, like the token rates they are compared with.
  MS_ASSIGN_OR_RETURN(Rate bw, measure_memory_bandwidth(pool, 0, o.limit_seconds));
  MS_ASSIGN_OR_RETURN(Rate peak, measure_peak_int8_ops(pool, kernel_isa(), o.limit_seconds / 2));
  r.memory_bytes_per_s = bw.wall;
  r.peak_int8_ops_per_s = peak.wall;
  r.weight_bytes_per_token = model->bytes_per_token();
  r.decode_limit_tokens_per_s = r.memory_bytes_per_s / static_cast<double>(r.weight_bytes_per_token);
  r.decode_bandwidth_share = r.decode_tokens_per_s / r.decode_limit_tokens_per_s;
  r.int8_ops_per_token = 2 * layer_matrix_elements(*model);
  r.prefill_int8_ops_per_s = r.prefill_tokens_per_s * static_cast<double>(r.int8_ops_per_token);
  r.prefill_peak_share = r.peak_int8_ops_per_s > 0 ? r.prefill_int8_ops_per_s / r.peak_int8_ops_per_s : 0;
  return r;
}

}  // namespace modelswarm
