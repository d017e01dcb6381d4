// `modelswarm export RELEASE -o FILE`: a release as one offline bundle (see man/modelswarm-export.1).
#include <cstdio>

#include "bundle_report.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "units.hpp"
#include "modelswarm/bundle.hpp"

namespace modelswarm::cli {

namespace {

class ExportCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("release", release_, "Release directory (holds .modelswarm/manifest.json)")->required();
    app.add_option("-o,--output", output_, "Bundle file to write")->required();
    app.add_option("--level", level_, "zstd level (default 1: best on byte-grouped weights)")
        ->check(CLI::Range(-7, 19));
    app.add_option("--threads", threads_, "Worker threads (default: all cores)")->check(CLI::Range(0, 1024));
  }

  int run(const Globals& g) override {
    install_interrupt_handler();
    ExportOptions opt;
    opt.write.level = level_;
    opt.write.threads = threads_;
    opt.write.cancel = &g_interrupted;
    PercentLine line(g, "exporting");
    opt.write.progress = [&](uint64_t done, uint64_t total) { line.update(done, total); };  // writer thread only
    auto r = export_release_bundle(release_, output_, opt);
    line.finish();
    if (!r.ok()) return report_error(g, r.error());
    const BundleStats& s = *r;
    if (g.json) {
      nlohmann::json doc = bundle_stats_json(s);
      doc["bundle"] = output_;
      doc["release_dir"] = release_;
      print_json(doc);
    } else if (!g.quiet) {
      std::printf("exported %s to %s: %s -> %s (%.2fx) in %.1f s\n", release_.c_str(), output_.c_str(),
                  format_size(s.bytes_in).c_str(), format_size(s.bytes_out).c_str(),
                  s.bytes_out ? double(s.bytes_in) / double(s.bytes_out) : 0.0, s.seconds);
    }
    return kExitOk;
  }

 private:
  std::string release_, output_;
  int level_ = 1;
  unsigned threads_ = 0;
};

}  // namespace

MODELSWARM_COMMAND("export", "Write a release as one offline bundle file (zstd)", ExportCommand);

}  // namespace modelswarm::cli
