// modelswarm channel KEY/NAME : what a publisher's DHT channel announces now.
#include "channel_cli.hpp"
#include "command.hpp"
#include "swarm_cli.hpp"

namespace modelswarm::cli {
namespace {

class ChannelCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("channel", channel_, "KEY/NAME: publisher key (RW..., trusted key id or .pub file) and release name")
        ->required();
    app.add_option("--timeout", timeout_, "Seconds to wait for the DHT, then for the lookup (default 60)")
        ->check(CLI::PositiveNumber);
    flags_.add_to(app);
  }

  int run(const Globals& g) override {
    auto ref = parse_channel_ref(channel_);
    if (!ref.ok()) return report_error(g, ref.error());
    EventPrinter printer(g);
    auto session = open_swarm_session(flags_, printer);
    if (!session.ok()) return report_error(g, session.error());
    swarm::ChannelLookupOptions lookup;
    lookup.dht_wait = lookup.timeout = std::chrono::seconds(timeout_);
    auto item = swarm::resolve_channel(**session, *ref, lookup, g_interrupted);
    printer.finish();
    if (!item.ok()) return report_error(g, item.error());
    if (!*item)
      return report_error(g, Error::network("channel " + ref->to_string() + ": no DHT node holds an item for it"));
    auto floor = channel_floor(*ref);
    if (!floor.ok()) return report_error(g, floor.error());
    const bool rollback = (*item)->seq < *floor;
    if (g.json) {
      nlohmann::json j = channel_item_json(**item);
      j["highest_seen_here"] = *floor;
      j["rollback"] = rollback;
      print_json(j);
    } else {
      print_channel_item(**item);
      if (rollback)
        std::printf("WARNING    version %lld was seen here: a fetch refuses this item (rollback)\n",
                    static_cast<long long>(*floor));
    }
    return kExitOk;
  }

 private:
  std::string channel_;
  unsigned timeout_ = 60;
  SwarmFlags flags_;
};

}  // namespace

MODELSWARM_COMMAND("channel", "Show what a publisher's DHT channel announces (KEY/NAME)", ChannelCommand);

}  // namespace modelswarm::cli
