// modelswarm dht-node : a DHT node and nothing else (a bootstrap node for a private DHT).
#include "command.hpp"
#include "swarm_cli.hpp"

namespace modelswarm::cli {
namespace {

class DhtNodeCommand : public Command {
 public:
  void configure(CLI::App& app) override { flags_.add_to(app); }

  int run(const Globals& g) override {
    SwarmFlags flags = flags_;
    flags.dht = true;
    EventPrinter printer(g);
    auto session = open_swarm_session(flags, printer);
    if (!session.ok()) return report_error(g, session.error());
    Status st = swarm::run_dht_node(
        **session,
        [&](int nodes) {
          if (g.json) print_json({{"event", "dht"}, {"nodes", nodes}});
          else note(g, "DHT routing table: " + std::to_string(nodes) + " nodes");
        },
        g_interrupted);
    if (!st.ok()) return report_error(g, st.error());
    return g_interrupted.load() ? kExitInterrupted : kExitOk;
  }

 private:
  SwarmFlags flags_;
};

}  // namespace

MODELSWARM_COMMAND("dht-node", "Run a DHT node only, until interrupted (bootstrap for a private DHT)", DhtNodeCommand);

}  // namespace modelswarm::cli
