// modelswarm publish RELEASE_DIR --key KEY : announce a release on its publisher's DHT channel.
#include "channel_cli.hpp"
#include "command.hpp"
#include "password.hpp"
#include "swarm_cli.hpp"

namespace modelswarm::cli {
namespace {

class PublishCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("release", dir_, "Release directory (packed and signed with --key)")->required();
    app.add_option("-k,--key", key_, "Secret key file (minisign format) that signed the release")->required();
    app.add_option("--password-file", pw_.file, "Read the key password from the first line of this file");
    app.add_option("--announce-tracker", trackers_,
                   "Tracker URL the item carries, besides the release torrent's (repeatable)");
    app.add_option("--web-seed", web_seeds_, "Web seed URL the item carries, besides the torrent's (repeatable)");
    app.add_option("--timeout", timeout_, "Seconds to wait for the DHT, then for the put (default 60)")
        ->check(CLI::PositiveNumber);
    flags_.add_to(app);
  }

  int run(const Globals& g) override {
    auto key = load_secret_key(key_, pw_);
    if (!key.ok()) return report_error(g, key.error());
    auto item = channel_item_for_release(dir_, *key, trackers_, web_seeds_);
    if (!item.ok()) return report_error(g, item.error());
    EventPrinter printer(g);
    auto session = open_swarm_session(flags_, printer);
    if (!session.ok()) return report_error(g, session.error());
    swarm::ChannelLookupOptions lookup;
    lookup.dht_wait = lookup.timeout = std::chrono::seconds(timeout_);
    auto stored = swarm::put_channel_item(**session, *item, lookup, g_interrupted);
    printer.finish();
    if (!stored.ok()) return report_error(g, stored.error());
    if (*stored == 0)
      return report_error(g, Error::network("no DHT node stored " + item->channel.to_string() +
                                            " (nodes refuse a version lower than the one they hold)"));
    // Seed keeps what this machine published alive (SeedOptions::channel_refresh).
    if (Status st = record_channel_item(*item); !st.ok()) return report_error(g, st.error());
    if (g.json) {
      nlohmann::json j = channel_item_json(*item);
      j["nodes"] = *stored;
      print_json(j);
    } else {
      print_channel_item(*item);
      std::printf("stored on  %d DHT nodes\n", *stored);
    }
    return kExitOk;
  }

 private:
  std::string dir_, key_;
  PasswordSource pw_;
  std::vector<std::string> trackers_, web_seeds_;
  unsigned timeout_ = 60;
  SwarmFlags flags_;
};

}  // namespace

MODELSWARM_COMMAND("publish", "Announce a signed release on its publisher's DHT channel (BEP 44)", PublishCommand);

}  // namespace modelswarm::cli
