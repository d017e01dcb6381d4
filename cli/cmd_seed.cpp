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
    app.add_option("--channel-refresh", channel_refresh_,
                   "With the DHT on: seconds between puts of each release's newest channel item (default 3600; 0: never)")
        ->check(CLI::NonNegativeNumber);
    flags_.add_to(app);
  }

  int run(const Globals& g) override {
    swarm::SeedOptions o;
    for (const auto& d : dirs_) o.release_dirs.emplace_back(d);
    o.trusted_keys = trust_;
    o.resume_dir = state_dir() / "seed";
    o.channel_refresh = std::chrono::seconds(channel_refresh_);
    if (Status st = swarm::check_seed_options(o); !st.ok()) return report_error(g, st.error());
    EventPrinter printer(g);
    auto session = open_swarm_session(flags_, printer);
    if (!session.ok()) return report_error(g, session.error());
    Status st = swarm::seed(**session, o, g_interrupted);
    printer.finish();
    if (!st.ok()) return report_error(g, st.error());
    // Seeding ends with a signal; the exit status says so, as for every interrupted command.
    return g_interrupted.load() ? kExitInterrupted : kExitOk;
  }

 private:
  std::vector<std::string> dirs_;
  std::vector<std::string> trust_;
  unsigned channel_refresh_ = 3600;
  SwarmFlags flags_;
};

}  // namespace

MODELSWARM_COMMAND("seed", "Seed one or more releases until interrupted", SeedCommand);

}  // namespace modelswarm::cli
