// modelswarm quantize SRC -o OUT.gguf: converts an HF checkpoint directory (config.json,
// safetensors shards, tokenizer.json) into a llama.cpp-compatible GGUF.
#include <chrono>
#include <cstdio>

#include "command.hpp"
#include "modelswarm/quantize.hpp"
#include "progress.hpp"

namespace modelswarm::cli {
namespace {

class QuantizeCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("src", src_, "HF checkpoint directory (config.json, *.safetensors, tokenizer.json)")->required();
    app.add_option("-o,--output", out_, "GGUF file to write")->required();
    app.add_option("--type", type_, quantize_type_names())->capture_default_str();
    app.add_option("--name", name_, "general.name (default: the directory's name)");
    app.add_option("-t,--threads", threads_, "Threads (default: all cores)");
  }

  int run(const Globals& g) override {
    auto type = ggml_type_from_name(type_);
    if (!type || !quantize_type_supported(*type))
      return report_error(g, Error::invalid_argument("--type: '" + type_ + "' is not one of " +
                                                     quantize_type_names(" ")));
    auto ck = open_hf_checkpoint(src_);
    if (!ck.ok()) return report_error(g, ck.error());
    install_interrupt_handler();
    PercentLine line(g, "quantizing");
    QuantizeOptions o;
    o.type = *type;
    o.threads = threads_;
    o.name = name_;
    o.progress = [&](uint64_t d, uint64_t t) {
      line.update(d, t);
      return !g_interrupted.load();
    };
    const auto t0 = std::chrono::steady_clock::now();
    auto st = quantize_checkpoint(*ck, out_, o);
    line.finish();
    if (!st.ok()) return report_error(g, st.error());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gbps = secs > 0 ? st->input_bytes / secs / 1e9 : 0;
    if (g.json) {
      print_json({{"output", out_}, {"type", type_}, {"architecture", ck->arch},
                  {"tensors", st->tensors}, {"input_bytes", st->input_bytes},
                  {"output_bytes", st->output_bytes}, {"seconds", secs},
                  {"input_gb_per_second", gbps}});
    } else {
      std::printf("wrote %s: %s %s, %llu tensors, %.1f MiB from %.1f MiB in %.2f s (%.2f GB/s)\n",
                  out_.c_str(), ck->arch.c_str(), type_.c_str(),
                  static_cast<unsigned long long>(st->tensors), st->output_bytes / 1048576.0,
                  st->input_bytes / 1048576.0, secs, gbps);
    }
    return kExitOk;
  }

 private:
  std::string src_, out_, type_ = "Q4_0", name_;
  unsigned threads_ = 0;
};

}  // namespace

MODELSWARM_COMMAND("quantize", "Convert an HF safetensors checkpoint to a GGUF file", QuantizeCommand);

}  // namespace modelswarm::cli
