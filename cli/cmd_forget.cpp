// modelswarm forget SELECTOR: drop releases from the local registry (their files stay).
#include "command.hpp"
#include "modelswarm/registry.hpp"

namespace modelswarm::cli {
namespace {

class ForgetCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("selector", selector_, "NAME, NAME@VERSION, an info-hash (prefix of 8+ hex digits) or a directory")
        ->required();
    app.add_flag("--all", all_, "Forget every match when the selector matches several releases");
  }

  int run(const Globals& g) override {
    auto found = find_registered(selector_);
    if (!found.ok()) return report_error(g, found.error());
    if (found->empty())
      return report_error(g, Error::invalid_argument("no registered release matches '" + selector_ + "' (see modelswarm list)"));
    if (found->size() > 1 && !all_)
      return report_error(g, Error::invalid_argument("'" + selector_ + "' matches " + std::to_string(found->size()) +
                                                     " releases; give NAME@VERSION or an info hash, or --all"));
    nlohmann::json forgotten = nlohmann::json::array();
    for (const auto& e : *found) {
      Status st = forget_release(e.info_hash);
      if (!st.ok()) return report_error(g, st.error());
      forgotten.push_back({{"name", e.name}, {"version", e.version}, {"dir", e.dir.string()}, {"info_hash", e.info_hash}});
      if (!g.json)
        std::printf("forgot %s version %llu (%s); its files are untouched\n", e.name.c_str(),
                    static_cast<unsigned long long>(e.version), e.dir.c_str());
    }
    if (g.json) print_json({{"forgotten", forgotten}});
    return kExitOk;
  }

 private:
  std::string selector_;
  bool all_ = false;
};

}  // namespace

MODELSWARM_COMMAND("forget", "Remove releases from the local registry (files are kept)", ForgetCommand);

}  // namespace modelswarm::cli
