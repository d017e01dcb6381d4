// modelswarm eval MODEL --tokens IDS: the top logits at every position, for comparing numerics
// with other engines.
#include <algorithm>
#include <cstdio>

#include "command.hpp"
#include "infer_cli.hpp"
#include "modelswarm/hf_model.hpp"
#include "modelswarm/infer.hpp"

namespace modelswarm::cli {
namespace {

class EvalCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("model", model_, "GGUF file, directory holding one, or release directory")->required();
    add_trust_option(app, trust_);
    tokens_opt_ = app.add_option("--tokens", tokens_, "Token ids (\"1,2,3\")");
    prompt_opt_ = app.add_option("-p,--prompt", prompt_, "Text to tokenize instead of --tokens (may be empty when the model adds BOS)");
    app.add_option("--top", top_, "Logits to show per position")->capture_default_str();
    app.add_option("-t,--threads", threads_, "Threads (default: all)");
    app.add_option("--kernel", kernel_, "Kernels: auto, scalar, avx2, avx512")->capture_default_str();
  }

  int run(const Globals& g) override {
    if ((prompt_opt_->count() > 0) == (tokens_opt_->count() > 0))
      return report_error(g, Error::invalid_argument("give exactly one of --tokens and -p/--prompt"));
    if (top_ == 0) return report_error(g, Error::invalid_argument("--top must be at least 1"));
    if (Status s = select_kernel(kernel_); !s.ok()) return report_error(g, s.error());
    auto path = resolve_model(model_, trust_, g);
    if (!path.ok()) return report_error(g, path.error());
    auto model = load_any_model(*path, hf_load_options(tokens_opt_->count() > 0, threads_));
    if (!model.ok()) return report_error(g, model.error());
    const Tokenizer& tok = (*model)->tokenizer();
    std::vector<int32_t> ids;
    if (tokens_opt_->count() > 0) {
      auto r = parse_token_ids(tokens_);
      if (!r.ok()) return report_error(g, r.error());
      ids = std::move(*r);
    } else {
      ids = tok.encode(prompt_);
    }
    if (ids.empty()) return report_error(g, Error::invalid_argument("no tokens to evaluate"));
    auto ctx = Context::create(*model, ContextOptions{static_cast<uint32_t>(ids.size()), threads_});
    if (!ctx.ok()) return report_error(g, ctx.error());
    auto logits = (*ctx)->eval(ids, true);
    if (!logits.ok()) return report_error(g, logits.error());

    const size_t V = (*model)->config().n_vocab;
    const size_t k = std::min<size_t>(top_, V);
    nlohmann::json positions = nlohmann::json::array();
    for (size_t pos = 0; pos < ids.size(); ++pos) {
      const float* row = logits->data() + pos * V;
      std::vector<int32_t> order(V);
      for (size_t i = 0; i < V; ++i) order[i] = static_cast<int32_t>(i);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
      if (g.json) {
        nlohmann::json top = nlohmann::json::array();
        for (size_t i = 0; i < k; ++i)
          top.push_back({{"id", order[i]}, {"logit", row[order[i]]}, {"text", tok.piece(order[i], true)}});
        positions.push_back({{"pos", pos}, {"token", ids[pos]}, {"top", top}});
      } else {
        std::printf("%zu\t%d\t", pos, ids[pos]);
        for (size_t i = 0; i < k; ++i)
          std::printf("%s%d:%.4f", i ? " " : "", order[i], static_cast<double>(row[order[i]]));
        std::printf("\n");
      }
    }
    if (g.json) print_json({{"tokens", ids}, {"n_vocab", V}, {"positions", positions}});
    return kExitOk;
  }

 private:
  std::string model_, tokens_, prompt_, kernel_ = "auto";
  std::vector<std::string> trust_;
  CLI::Option *prompt_opt_ = nullptr, *tokens_opt_ = nullptr;
  uint32_t top_ = 5, threads_ = 0;
};

}  // namespace

MODELSWARM_COMMAND("eval", "Print the top logits at each position of a token sequence", EvalCommand);

}  // namespace modelswarm::cli
