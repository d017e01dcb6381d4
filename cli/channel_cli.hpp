// How `publish` and `channel` show a channel item: text lines or one JSON document.
#pragma once

#include <nlohmann/json.hpp>

#include "modelswarm/channel.hpp"

namespace modelswarm::cli {

nlohmann::json channel_item_json(const ChannelItem& item);
// "channel  RW.../NAME" and the other fields, one per line, on stdout.
void print_channel_item(const ChannelItem& item);

}  // namespace modelswarm::cli
