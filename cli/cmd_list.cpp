// modelswarm list: the releases this machine knows (packed, fetched or verified here).
#include <algorithm>
#include <filesystem>

#include "command.hpp"
#include "modelswarm/registry.hpp"

namespace modelswarm::cli {
namespace {

class ListCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("selector", selector_, "Only releases matching NAME, NAME@VERSION, an info-hash prefix or a directory");
  }

  int run(const Globals& g) override {
    std::vector<std::string> problems;
    auto all = selector_.empty() ? list_registered(&problems) : find_registered(selector_);
    if (!all.ok()) return report_error(g, all.error());
    auto entries = std::move(all).value();
    std::sort(entries.begin(), entries.end(), [](const RegistryEntry& a, const RegistryEntry& b) {
      return a.name != b.name ? a.name < b.name : a.version < b.version;
    });
    for (const auto& p : problems) note(g, "modelswarm: warning: " + p);
    std::error_code ec;
    if (g.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : entries)
        list.push_back({{"name", e.name}, {"version", e.version}, {"dir", e.dir.string()},
                        {"manifest", e.manifest.string()}, {"info_hash", e.info_hash},
                        {"publisher", e.publisher_key}, {"registered", e.registered},
                        {"present", std::filesystem::exists(e.manifest, ec)}});
      print_json({{"releases", list}});
      return kExitOk;
    }
    if (entries.empty()) {
      note(g, "no registered releases (pack, fetch or verify one)");
      return kExitOk;
    }
    std::printf("%-32s %8s  %-16s  %s\n", "NAME", "VERSION", "INFO-HASH", "DIRECTORY");
    for (const auto& e : entries) {
      bool present = std::filesystem::exists(e.manifest, ec);
      std::printf("%-32s %8llu  %-16s  %s%s\n", e.name.c_str(), static_cast<unsigned long long>(e.version),
                  e.info_hash.substr(0, 16).c_str(), e.dir.c_str(), present ? "" : "  (missing)");
    }
    return kExitOk;
  }

 private:
  std::string selector_;
};

}  // namespace

MODELSWARM_COMMAND("list", "List the releases packed, fetched or verified on this machine", ListCommand);

}  // namespace modelswarm::cli
