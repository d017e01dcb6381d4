// modelswarm bench MODEL: prefill and decode speed against this machine's measured limits.
#include <cstdio>

#include "command.hpp"
#include "infer_cli.hpp"
#include "modelswarm/hf_model.hpp"
#include "modelswarm/infer_bench.hpp"

namespace modelswarm::cli {
namespace {

nlohmann::json rate_json(const Rate& r) { return {{"wall", r.wall}, {"cpu", r.cpu}}; }

class BenchCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("model", model_, "GGUF file, directory holding one, release directory, or HF checkpoint directory")->required();
    add_trust_option(app, trust_);
    app.add_option("-p,--prompt-tokens", o_.n_prompt, "Prompt tokens processed in one batch")->capture_default_str();
    app.add_option("-n,--gen-tokens", o_.n_gen, "Tokens generated one at a time")->capture_default_str();
    app.add_option("-d,--depth", o_.n_depth, "Tokens in the context when decoding starts (default: the prompt)");
    app.add_option("-t,--threads", o_.n_threads, "Threads (default: all)");
    app.add_option("--kernel", kernel_, "Kernels: auto, scalar, avx2, avx512")->capture_default_str();
  }

  int run(const Globals& g) override {
    if (Status s = select_kernel(kernel_); !s.ok()) return report_error(g, s.error());
    auto path = resolve_model(model_, trust_, g);
    if (!path.ok()) return report_error(g, path.error());
    // bench feeds token ids, so an HF checkpoint needs no usable tokenizer.json.
    auto model = load_any_model(*path, hf_load_options(true, o_.n_threads));
    if (!model.ok()) return report_error(g, model.error());
    note(g, "benchmarking " + path->string() + " ...");
    auto r = run_infer_bench(*model, o_);
    if (!r.ok()) return report_error(g, r.error());
    if (g.json) {
      print_json({{"model", path->string()}, {"isa", r->isa}, {"threads", r->threads},
                  {"prompt_tokens", r->n_prompt}, {"gen_tokens", r->n_gen},
                  {"decode_depth", r->n_depth},
                  {"prefill_tokens_per_s", rate_json(r->prefill_tokens)},
                  {"decode_tokens_per_s", rate_json(r->decode_tokens)},
                  {"weight_bytes_per_token", r->weight_bytes_per_token},
                  {"memory_read_bytes_per_s", rate_json(r->memory_bytes)},
                  {"decode_limit_tokens_per_s", rate_json(r->decode_limit_tokens)},
                  {"decode_bandwidth_share", rate_json(r->decode_bandwidth_share)},
                  {"int8_ops_per_token", r->int8_ops_per_token},
                  {"prefill_int8_ops_per_s", rate_json(r->prefill_int8_ops)},
                  {"peak_int8_ops_per_s", rate_json(r->peak_int8_ops)},
                  {"prefill_peak_share", rate_json(r->prefill_peak_share)}});
      return kExitOk;
    }
    std::printf("model             %s\n", path->string().c_str());
    std::printf("kernels           %s, %u threads\n", r->isa.c_str(), r->threads);
    std::printf("                  %14s %14s\n", "wall clock", "CPU time");
    std::printf("prefill tokens/s  %14.1f %14.1f  (%u tokens in one batch)\n", r->prefill_tokens.wall,
                r->prefill_tokens.cpu, r->n_prompt);
    std::printf("decode tokens/s   %14.2f %14.2f  (%u tokens after %u in the context)\n", r->decode_tokens.wall,
                r->decode_tokens.cpu, r->n_gen, r->n_depth);
    std::printf("memory read GB/s  %14.2f %14.2f\n", r->memory_bytes.wall / 1e9, r->memory_bytes.cpu / 1e9);
    std::printf("decode limit      %14.2f %14.2f  tokens/s at %.1f MB of weights per token\n",
                r->decode_limit_tokens.wall, r->decode_limit_tokens.cpu, r->weight_bytes_per_token / 1e6);
    std::printf("decode share      %13.0f%% %13.0f%%  of the bandwidth limit\n",
                100 * r->decode_bandwidth_share.wall, 100 * r->decode_bandwidth_share.cpu);
    std::printf("prefill Gop/s     %14.1f %14.1f  int8 (2 per weight per token)\n", r->prefill_int8_ops.wall / 1e9,
                r->prefill_int8_ops.cpu / 1e9);
    std::printf("peak int8 Gop/s   %14.1f %14.1f\n", r->peak_int8_ops.wall / 1e9, r->peak_int8_ops.cpu / 1e9);
    std::printf("prefill share     %13.0f%% %13.0f%%  of the peak int8 rate\n", 100 * r->prefill_peak_share.wall,
                100 * r->prefill_peak_share.cpu);
    return kExitOk;
  }

 private:
  std::string model_, kernel_ = "auto";
  std::vector<std::string> trust_;
  InferBenchOptions o_;
};

}  // namespace

MODELSWARM_COMMAND("bench", "Measure prefill and decode speed against the machine's limits", BenchCommand);

}  // namespace modelswarm::cli
