// modelswarm gc: remove what interrupted fetches left behind, and registry entries whose
// release directory is gone.
#include "command.hpp"
#include "modelswarm/staging.hpp"
#include "units.hpp"

namespace modelswarm::cli {
namespace {

class GcCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("dirs", dirs_, "Fetch output directories to clean as well (their .modelswarm-partial/)");
    app.add_flag("-n,--dry-run", dry_run_, "Show what would be removed; remove nothing");
    app.add_flag("--keep-registry", keep_registry_, "Keep registry entries whose release is gone");
  }

  int run(const Globals& g) override {
    GcOptions o;
    for (const auto& d : dirs_) o.dirs.emplace_back(d);
    o.dry_run = dry_run_;
    o.prune_registry = !keep_registry_;
    auto r = collect_garbage(o);
    if (!r.ok()) return report_error(g, r.error());
    for (const auto& w : r->warnings) note(g, "modelswarm: warning: " + w);
    if (g.json) {
      nlohmann::json removed = nlohmann::json::array(), in_use = nlohmann::json::array();
      for (const auto& i : r->removed)
        removed.push_back({{"kind", gc_item_kind_name(i.kind)}, {"path", i.path.string()}, {"bytes", i.bytes}});
      for (const auto& p : r->in_use) in_use.push_back(p.string());
      print_json({{"dry_run", dry_run_}, {"removed", removed}, {"in_use", in_use}, {"bytes", r->bytes}});
      return kExitOk;
    }
    const char* verb = dry_run_ ? "would remove" : "removed";
    for (const auto& i : r->removed)
      std::printf("%s %s %s (%s)\n", verb, std::string(gc_item_kind_name(i.kind)).c_str(), i.path.c_str(),
                  format_size(i.bytes).c_str());
    for (const auto& p : r->in_use) note(g, "in use by a running fetch, kept: " + p.string());
    std::printf("%s %zu item(s), %s\n", verb, r->removed.size(), format_size(r->bytes).c_str());
    return kExitOk;
  }

 private:
  std::vector<std::string> dirs_;
  bool dry_run_ = false, keep_registry_ = false;
};

}  // namespace

MODELSWARM_COMMAND("gc", "Remove staging leftovers of interrupted fetches and stale registry entries", GcCommand);

}  // namespace modelswarm::cli
