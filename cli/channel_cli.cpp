#include "channel_cli.hpp"

#include <cstdio>

namespace modelswarm::cli {

nlohmann::json channel_item_json(const ChannelItem& item) {
  return {{"channel", item.channel.to_string()},
          {"key_id", key_id_hex(item.channel.key.id)},
          {"name", item.channel.name},
          {"version", item.seq},
          {"info_hash", item.info_hash},
          {"trackers", item.trackers},
          {"web_seeds", item.web_seeds},
          {"magnet", channel_magnet(item)}};
}

void print_channel_item(const ChannelItem& item) {
  std::printf("channel    %s\n", item.channel.to_string().c_str());
  std::printf("key id     %s\n", key_id_hex(item.channel.key.id).c_str());
  std::printf("version    %lld\n", static_cast<long long>(item.seq));
  std::printf("info-hash  %s\n", item.info_hash.c_str());
  for (const auto& t : item.trackers) std::printf("tracker    %s\n", t.c_str());
  for (const auto& w : item.web_seeds) std::printf("web seed   %s\n", w.c_str());
  std::printf("magnet     %s\n", channel_magnet(item).c_str());
}

}  // namespace modelswarm::cli
