// modelswarm bench MODEL: prefill and decode speed against this machine's measured limits.
#include <cstdio>

#include "command.hpp"
#include "infer_cli.hpp"
#include "modelswarm/infer_bench.hpp"

namespace modelswarm::cli {
namespace {

class BenchCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("model", model_, "GGUF file, directory holding one, or release directory")->required();
    app.add_option("-p,--prompt-tokens", o_.n_prompt, "Prompt tokens processed in one batch")->capture_default_str();
    app.add_option("-n,--gen-tokens", o_.n_gen, "Tokens generated one at a time")->capture_default_str();
    app.add_option("-t,--threads", o_.n_threads, "Threads (default: all)");
    app.add_option("--kernel", kernel_, "Kernels: auto, scalar, avx2, avx512")->capture_default_str();
  }

  int run(const Globals& g) override {
    if (Status s = select_kernel(kernel_); !s.ok()) return report_error(g, s.error());
    auto path = resolve_model(model_, g);
    if (!path.ok()) return report_error(g, path.error());
    auto model = load_model(*path);
    if (!model.ok()) return report_error(g, model.error());
    note(g, "benchmarking " + path->string() + " ...");
    auto r = run_infer_bench(*model, o_);
    if (!r.ok()) return report_error(g, r.error());
    if (g.json) {
      print_json({{"model", path->string()}, {"isa", r->isa}, {"threads", r->threads},
                  {"prompt_tokens", r->n_prompt}, {"gen_tokens", r->n_gen},
                  {"prefill_tokens_per_s", r->prefill_tokens_per_s},
                  {"decode_tokens_per_s", r->decode_tokens_per_s},
                  {"weight_bytes_per_token", r->weight_bytes_per_token},
                  {"memory_read_bytes_per_s", r->memory_bytes_per_s},
                  {"decode_limit_tokens_per_s", r->decode_limit_tokens_per_s},
                  {"decode_bandwidth_share", r->decode_bandwidth_share},
                  {"int8_ops_per_token", r->int8_ops_per_token},
                  {"prefill_int8_ops_per_s", r->prefill_int8_ops_per_s},
                  {"peak_int8_ops_per_s", r->peak_int8_ops_per_s},
                  {"prefill_peak_share", r->prefill_peak_share}});
      return kExitOk;
    }
    std::printf("model            %s\n", path->string().c_str());
    std::printf("kernels          %s, %u threads\n", r->isa.c_str(), r->threads);
    std::printf("prefill          %.1f tokens/s (%u tokens in one batch)\n", r->prefill_tokens_per_s, r->n_prompt);
    std::printf("decode           %.2f tokens/s (%u tokens)\n", r->decode_tokens_per_s, r->n_gen);
    std::printf("weights/token    %.1f MB\n", r->weight_bytes_per_token / 1e6);
    std::printf("memory read      %.2f GB/s measured -> decode limit %.2f tokens/s\n",
                r->memory_bytes_per_s / 1e9, r->decode_limit_tokens_per_s);
    std::printf("decode share     %.0f%% of the bandwidth limit\n", 100 * r->decode_bandwidth_share);
    std::printf("prefill int8     %.1f Gop/s of %.1f Gop/s peak (%.0f%%)\n", r->prefill_int8_ops_per_s / 1e9,
                r->peak_int8_ops_per_s / 1e9, 100 * r->prefill_peak_share);
    return kExitOk;
  }

 private:
  std::string model_, kernel_ = "auto";
  InferBenchOptions o_;
};

}  // namespace

MODELSWARM_COMMAND("bench", "Measure prefill and decode speed against the machine's limits", BenchCommand);

}  // namespace modelswarm::cli
