// modelswarm seed RELEASE_DIR... : seed releases until SIGINT/SIGTERM.
#include "command.hpp"
#include "modelswarm/paths.hpp"
#include "swarm_cli.hpp"

namespace modelswarm::cli {
namespace {

class SeedCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("dirs", dirs_, "Release directories (each with .modelswarm/release.torrent)")->required();
    app.add_option("--trust", trust_, "Publisher key (RW... or .pub file) the manifests must be signed by");
    flags_.add_to(app);
  }

  int run(const Globals& g) override {
    EventPrinter printer(g);
    auto session = open_swarm_session(flags_, printer);
    if (!session.ok()) return report_error(g, session.error());
    swarm::SeedOptions o;
    for (const auto& d : dirs_) o.release_dirs.emplace_back(d);
    o.trusted_keys = trust_;
    o.resume_dir = state_dir() / "seed";
    Status st = swarm::seed(**session, o, g_interrupted);
    printer.finish();
    if (!st.ok()) return report_error(g, st.error());
    return kExitOk;  // stopping on a signal is how seeding ends
  }

 private:
  std::vector<std::string> dirs_;
  std::vector<std::string> trust_;
  SwarmFlags flags_;
};

}  // namespace

MODELSWARM_COMMAND("seed", "Seed one or more releases until interrupted", SeedCommand);

}  // namespace modelswarm::cli
