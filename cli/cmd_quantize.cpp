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
    app.add_option("--type", type_,
                   "One type for every matrix: " + quantize_type_names() +
                       "; or a llama.cpp mix of per-tensor types: " + quant_mix_names())
        ->capture_default_str();
    app.add_option("--name", name_, "general.name (default: the directory's name)");
    app.add_option("-t,--threads", threads_, "Threads (default: all cores)");
  }

  int run(const Globals& g) override {
    const auto mix = quant_mix_from_name(type_);
    const auto type = ggml_type_from_name(type_);
    if (!mix && (!type || !quantize_type_supported(*type)))
      return report_error(g, Error::invalid_argument("--type: '" + type_ + "' is not one of " +
                                                     quantize_type_names(" ") + " " + quant_mix_names(" ")));
    auto ck = open_hf_checkpoint(src_);
    if (!ck.ok()) return report_error(g, ck.error());
    install_interrupt_handler();
    PercentLine line(g, "quantizing");
    QuantizeOptions o;
    if (mix) o.mix = mix;
    else o.type = *type;
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
    // Tensors of each type, in type id order: "F32 5, Q4_K 9, Q6_K 5".
    nlohmann::json by_type = nlohmann::json::object();
    std::string types;
    for (const auto& t : ggml_types()) {
      const uint64_t n = st->tensors_by_type[static_cast<uint32_t>(t.type)];
      if (n == 0) continue;
      by_type[std::string(t.name)] = n;
      types += (types.empty() ? "" : ", ") + std::string(t.name) + " " + std::to_string(n);
    }
    if (g.json) {
      print_json({{"output", out_}, {"type", type_}, {"mix", mix.has_value()},
                  {"file_type", st->file_type}, {"architecture", ck->arch},
                  {"tensors", st->tensors}, {"tensor_types", by_type}, {"input_bytes", st->input_bytes},
                  {"output_bytes", st->output_bytes}, {"seconds", secs},
                  {"input_gb_per_second", gbps}});
    } else {
      std::printf("wrote %s: %s %s, %llu tensors (%s), %.1f MiB from %.1f MiB in %.2f s (%.2f GB/s)\n",
                  out_.c_str(), ck->arch.c_str(), type_.c_str(),
                  static_cast<unsigned long long>(st->tensors), types.c_str(), st->output_bytes / 1048576.0,
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
