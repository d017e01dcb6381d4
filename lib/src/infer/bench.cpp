#include <algorithm>

#include "kernels/bench_timer.hpp"
#include "kernels/kernel_bench.hpp"
#include "modelswarm/infer_bench.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/sampler.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

namespace {

Rate ratio(const Rate& a, const Rate& b) {
  return {b.wall > 0 ? a.wall / b.wall : 0, b.cpu > 0 ? a.cpu / b.cpu : 0};
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
  if (o.n_prompt == 0 || o.n_gen == 0)
    return Error::invalid_argument("bench needs at least one prompt token and one generated token");
  const ModelConfig& c = model->config();
  InferBenchReport r;
  r.isa = kernel_isa_name(kernel_isa());
  r.n_prompt = o.n_prompt;
  r.n_gen = o.n_gen;
  r.n_depth = std::max(o.n_prompt, o.n_depth);
  MS_ASSIGN_OR_RETURN(auto ctx, Context::create(model, ContextOptions{r.n_depth + o.n_gen + 1, o.n_threads}));
  r.threads = ctx->n_threads();

  // Fixed, varied token ids (BOS first when the model has one).
  std::vector<int32_t> prompt(o.n_prompt);
  for (uint32_t i = 0; i < o.n_prompt; ++i) prompt[i] = static_cast<int32_t>((1 + 7919ull * i) % c.n_vocab);
  if (model->tokenizer().bos() >= 0) prompt[0] = model->tokenizer().bos();

  // Warm-up: pages every weight in and sizes the buffers.
  {
    std::vector<int32_t> warm(prompt.begin(), prompt.begin() + std::min<size_t>(prompt.size(), 8));
    MS_TRY(ctx->eval(warm));
    int32_t one[1] = {prompt[0]};
    MS_TRY(ctx->eval(one));
    ctx->reset();
  }

  // One timed pass each, on both bases (bench_rate.hpp).
  Result<std::span<const float>> logits = std::span<const float>();
  kernels::BestPass prefill(r.threads);
  prefill.pass([&] { logits = ctx->eval(prompt); });
  MS_TRY(logits);
  r.prefill_tokens = prefill.rate(o.n_prompt);

  // Fills the context up to the decode depth, untimed, in prompt-sized batches.
  for (uint32_t pos = o.n_prompt; pos < r.n_depth && logits.ok();) {
    const uint32_t n = std::min(o.n_prompt, r.n_depth - pos);
    std::vector<int32_t> fill(n);
    for (uint32_t i = 0; i < n; ++i) fill[i] = static_cast<int32_t>((3 + 104729ull * (pos + i)) % c.n_vocab);
    logits = ctx->eval(fill);
    pos += n;
  }
  MS_TRY(logits);

  int32_t next = argmax(*logits);
  kernels::BestPass decode(r.threads);
  decode.pass([&] {
    for (uint32_t i = 0; i < o.n_gen && logits.ok(); ++i) {
      int32_t one[1] = {next};
      logits = ctx->eval(one);
      if (logits.ok()) next = argmax(*logits);
    }
  });
  MS_TRY(logits);
  r.decode_tokens = decode.rate(o.n_gen);
  ctx.reset();  // its workers must not compete with the measurements

  ThreadPool pool(r.threads);
  MS_ASSIGN_OR_RETURN(r.memory_bytes, measure_memory_bandwidth(pool, 0, o.limit_seconds));
  MS_ASSIGN_OR_RETURN(r.peak_int8_ops, measure_peak_int8_ops(pool, kernel_isa(), o.limit_seconds / 2));
  r.weight_bytes_per_token = model->bytes_per_token();
  const double bpt = static_cast<double>(r.weight_bytes_per_token);
  r.decode_limit_tokens = {r.memory_bytes.wall / bpt, r.memory_bytes.cpu / bpt};
  r.decode_bandwidth_share = ratio(r.decode_tokens, r.decode_limit_tokens);
  r.int8_ops_per_token = 2 * layer_matrix_elements(*model);
  const double ops = static_cast<double>(r.int8_ops_per_token);
  r.prefill_int8_ops = {r.prefill_tokens.wall * ops, r.prefill_tokens.cpu * ops};
  r.prefill_peak_share = ratio(r.prefill_int8_ops, r.peak_int8_ops);
  return r;
}

}  // namespace modelswarm
