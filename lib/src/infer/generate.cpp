#include <chrono>

#include "modelswarm/infer.hpp"

namespace modelswarm {

Result<GenerateStats> generate(Context& ctx, std::span<const int32_t> prompt,
                               const GenerateOptions& options, const TokenCallback& on_token) {
  using clock = std::chrono::steady_clock;
  if (prompt.empty()) return Error::invalid_argument("empty prompt");
  const Tokenizer& tok = ctx.model().tokenizer();
  GenerateStats st;
  st.prompt_tokens = static_cast<uint32_t>(prompt.size());
  Sampler sampler(options.sampling);
  for (int32_t t : prompt) sampler.accept(t);

  auto t0 = clock::now();
  MS_ASSIGN_OR_RETURN(std::span<const float> logits, ctx.eval(prompt));
  st.prefill_seconds = std::chrono::duration<double>(clock::now() - t0).count();

  Utf8Streamer stream;
  auto t1 = clock::now();
  for (int32_t i = 0; options.n_predict < 0 || i < options.n_predict; ++i) {
    int32_t next = sampler.sample(logits);
    sampler.accept(next);
    ++st.generated_tokens;
    bool eog = options.stop_at_eos && tok.is_end_of_generation(next);
    bool room = ctx.n_past() < ctx.n_ctx();
    bool last = eog || !room || (options.n_predict >= 0 && i + 1 == options.n_predict);
    std::string text = eog ? std::string() : stream.push(tok.piece(next));
    if (last) text += stream.flush();
    if (!on_token(next, text)) break;
    if (eog) {
      st.stopped_at_eos = true;
      break;
    }
    if (last) break;
    int32_t one[1] = {next};
    MS_ASSIGN_OR_RETURN(logits, ctx.eval(one));
  }
  st.decode_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return st;
}

}  // namespace modelswarm
