#include <time.h>

#include <algorithm>
#include <chrono>

#include "modelswarm/infer_bench.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

namespace {

// Wall-clock and per-thread CPU time of a measured section.
class Stopwatch {
 public:
  explicit Stopwatch(unsigned threads) : threads_(threads), wall0_(std::chrono::steady_clock::now()), cpu0_(cpu()) {}
  // `units` per second on each basis.
  Rate rate(double units) const {
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
    double cpu_per_thread = (cpu() - cpu0_) / threads_;
    return {wall > 0 ? units / wall : 0, cpu_per_thread > 0 ? units / cpu_per_thread : 0};
  }

 private:
  static double cpu() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  }
  unsigned threads_;
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_;
};

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
  MS_ASSIGN_OR_RETURN(auto ctx, Context::create(model, ContextOptions{o.n_prompt + o.n_gen + 1, o.n_threads}));
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

  Stopwatch prefill(r.threads);
  MS_ASSIGN_OR_RETURN(std::span<const float> logits, ctx->eval(prompt));
  r.prefill_tokens = prefill.rate(o.n_prompt);

  int32_t next = argmax(logits);
  Stopwatch decode(r.threads);
  for (uint32_t i = 0; i < o.n_gen; ++i) {
    int32_t one[1] = {next};
    MS_ASSIGN_OR_RETURN(logits, ctx->eval(one));
    next = argmax(logits);
  }
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
