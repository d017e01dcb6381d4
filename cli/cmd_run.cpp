// modelswarm run MODEL_OR_RELEASE -p TEXT: generates text, streaming it to stdout.
#include <cstdio>
#include <random>

#include "command.hpp"
#include "infer_cli.hpp"
#include "modelswarm/hf_model.hpp"
#include "modelswarm/infer.hpp"

namespace modelswarm::cli {
namespace {

class RunCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("model", model_, "GGUF file, directory holding one, or release directory")->required();
    add_trust_option(app, trust_);
    prompt_opt_ = app.add_option("-p,--prompt", prompt_, "Prompt text (may be empty when the model adds BOS)");
    tokens_opt_ = app.add_option("--tokens", tokens_, "Prompt as token ids (\"1,2,3\"), instead of -p");
    app.add_option("-n,--n-predict", n_predict_, "Tokens to generate (-1: until end of text)")->capture_default_str();
    app.add_option("--temp", sp_.temperature, "Temperature (0: greedy)")->capture_default_str();
    app.add_option("--top-k", sp_.top_k, "Keep the k most likely tokens (0: all)")->capture_default_str();
    app.add_option("--top-p", sp_.top_p, "Keep the most likely tokens up to this probability")->capture_default_str();
    app.add_option("--repeat-penalty", sp_.repeat_penalty, "Penalty for repeated tokens (1: off)")->capture_default_str();
    app.add_option("--repeat-last-n", sp_.repeat_last_n, "Tokens the repeat penalty looks back over")->capture_default_str();
    app.add_option("--seed", seed_, "Random seed (default: random)");
    app.add_option("-t,--threads", threads_, "Threads (default: all)");
    app.add_option("-c,--ctx-size", ctx_, "Context size in tokens (default: the model's, at most 4096)");
    app.add_option("--kernel", kernel_, "Kernels: auto, scalar, avx2, avx512")->capture_default_str();
    app.add_flag("--no-special", no_special_, "Do not turn special-token text in the prompt into tokens");
    app.add_flag("--ignore-eos", ignore_eos_, "Keep generating after an end-of-text token");
  }

  int run(const Globals& g) override {
    install_interrupt_handler();
    if ((prompt_opt_->count() > 0) == (tokens_opt_->count() > 0))
      return report_error(g, Error::invalid_argument("give exactly one of -p/--prompt and --tokens"));
    if (Status s = select_kernel(kernel_); !s.ok()) return report_error(g, s.error());
    auto path = resolve_model(model_, trust_, g);
    if (!path.ok()) return report_error(g, path.error());
    auto model = load_any_model(*path, hf_load_options(tokens_opt_->count() > 0, threads_));
    if (!model.ok()) return report_error(g, model.error());
    auto ctx = Context::create(*model, ContextOptions{ctx_, threads_});
    if (!ctx.ok()) return report_error(g, ctx.error());

    std::vector<int32_t> prompt;
    if (tokens_opt_->count() > 0) {
      auto ids = parse_token_ids(tokens_);
      if (!ids.ok()) return report_error(g, ids.error());
      prompt = std::move(*ids);
    } else {
      prompt = (*model)->tokenizer().encode(prompt_, true, !no_special_);
    }
    if (prompt.empty())
      return report_error(g, Error::invalid_argument("the prompt has no tokens (an empty prompt needs a model that adds BOS)"));

    sp_.seed = seed_ ? *seed_ : std::random_device{}();
    GenerateOptions opt;
    opt.n_predict = n_predict_;
    opt.sampling = sp_;
    opt.stop_at_eos = !ignore_eos_;
    std::string text;
    std::vector<int32_t> generated;
    bool write_failed = false;
    auto st = generate(**ctx, prompt, opt, [&](int32_t id, std::string_view piece) {
      generated.push_back(id);
      if (g.json) {
        text += piece;
      } else if (!piece.empty()) {
        if (std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size() || std::fflush(stdout) != 0) {
          write_failed = true;
          return false;
        }
      }
      return !g_interrupted.load();
    });
    if (!st.ok()) return report_error(g, st.error());
    if (write_failed) return report_error(g, Error::io("cannot write to stdout"));
    if (g_interrupted.load()) return report_error(g, Error::interrupted("interrupted"));

    double pre_tps = st->prefill_seconds > 0 ? st->prompt_tokens / st->prefill_seconds : 0;
    double dec_tps = st->decode_seconds > 0 && st->generated_tokens > 1
                         ? (st->generated_tokens - 1) / st->decode_seconds : 0;
    if (g.json) {
      print_json({{"text", text}, {"tokens", generated}, {"prompt_tokens", st->prompt_tokens},
                  {"generated_tokens", st->generated_tokens}, {"stopped_at_eos", st->stopped_at_eos},
                  {"seed", sp_.seed}, {"prefill_tokens_per_second", pre_tps},
                  {"decode_tokens_per_second", dec_tps}});
    } else {
      std::fputc('\n', stdout);
      char line[200];
      std::snprintf(line, sizeof line, "prompt: %u tokens, %.1f tokens/s; generated: %u tokens, %.1f tokens/s; seed %llu",
                    st->prompt_tokens, pre_tps, st->generated_tokens, dec_tps,
                    static_cast<unsigned long long>(sp_.seed));
      note(g, line);
    }
    return kExitOk;
  }

 private:
  std::string model_, prompt_, tokens_, kernel_ = "auto";
  std::vector<std::string> trust_;
  CLI::Option *prompt_opt_ = nullptr, *tokens_opt_ = nullptr;
  int32_t n_predict_ = 128;
  SamplerParams sp_;
  std::optional<uint64_t> seed_;
  uint32_t threads_ = 0, ctx_ = 0;
  bool no_special_ = false, ignore_eos_ = false;
};

}  // namespace

MODELSWARM_COMMAND("run", "Generate text with a model", RunCommand);

}  // namespace modelswarm::cli
