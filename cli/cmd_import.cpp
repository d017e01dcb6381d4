// `modelswarm import FILE -o DIR`: unpack and verify an offline bundle (see man/modelswarm-import.1).
#include <cstdio>
#include <mutex>

#include "bundle_report.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "units.hpp"
#include "modelswarm/bundle.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/trust.hpp"

namespace modelswarm::cli {

namespace {

class ImportCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("bundle", bundle_, "Bundle file written by `modelswarm export`")->required();
    app.add_option("-o,--output", output_, "Directory that receives the release (as DIR/NAME)")->required();
    app.add_option("--trust", trust_, "Trusted publisher key (RW... or a .pub file); repeatable. "
                                      "Default: the trust store");
    app.add_flag("--allow-downgrade", allow_downgrade_,
                 "Accept a version lower than the highest seen for this publisher and name");
    app.add_flag("--no-sync", no_sync_,
                 "Do not wait for the files to reach the disk before renaming them into place");
    app.add_option("--threads", threads_, "Worker threads (default: all cores)")->check(CLI::Range(0, 1024));
  }

  int run(const Globals& g) override {
    install_interrupt_handler();
    TrustOptions trust;
    trust.allow_downgrade = allow_downgrade_;
    for (const std::string& k : trust_) {
      auto key = load_public_key(k);
      if (!key.ok()) return report_error(g, key.error());
      trust.trusted_keys.push_back(*key);
    }
    if (trust_.empty()) {
      auto keys = load_trusted_keys();
      if (!keys.ok()) return report_error(g, keys.error());
      trust.trusted_keys = *keys;
    }
    if (trust.trusted_keys.empty())
      return report_error(g, Error::trust("no trusted key: pass --trust KEY or add one to the trust store"));
    ImportOptions opt;
    opt.trust = &trust;
    opt.extract.threads = threads_;
    opt.extract.sync = !no_sync_;
    opt.extract.cancel = &g_interrupted;
    PercentLine line(g, "importing");
    std::mutex line_mu;  // progress comes from every decoding thread
    opt.extract.progress = [&](uint64_t done, uint64_t total) {
      std::lock_guard lk(line_mu);
      line.update(done, total);
    };
    auto r = import_release_bundle(bundle_, output_, opt);
    line.finish();
    if (!r.ok()) return report_error(g, r.error());
    const BundleStats& s = r->stats;
    if (g.json) {
      nlohmann::json doc = bundle_stats_json(s);
      doc["bundle"] = bundle_;
      doc["release_dir"] = r->release_dir.string();
      doc["name"] = r->name;
      doc["version"] = r->version;
      doc["key_id"] = r->key_id;
      doc["torrent"] = r->torrent;
      print_json(doc);
    } else if (!g.quiet) {
      const uint64_t rate = s.seconds > 0 ? static_cast<uint64_t>(double(s.bytes_out) / s.seconds) : 0;
      std::printf("imported %s v%llu into %s: %s -> %s verified in %.1f s (%s/s)\n",
                  r->name.c_str(), static_cast<unsigned long long>(r->version), r->release_dir.c_str(),
                  format_size(s.bytes_in).c_str(), format_size(s.bytes_out).c_str(), s.seconds,
                  format_size(rate).c_str());
    }
    return kExitOk;
  }

 private:
  std::string bundle_, output_;
  std::vector<std::string> trust_;
  bool allow_downgrade_ = false;
  bool no_sync_ = false;
  unsigned threads_ = 0;
};

}  // namespace

MODELSWARM_COMMAND("import", "Unpack and verify an offline bundle into a release directory", ImportCommand);

}  // namespace modelswarm::cli
