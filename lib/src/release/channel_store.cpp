// state_dir()/channels.json: the newest channel item seen per (key id, name), kept verbatim.
#include <algorithm>

#include "modelswarm/channel.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/sha256.hpp"
#include "modelswarm/trust.hpp"
#include "release/state_file.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

fs::path channels_file() { return state_dir() / "channels.json"; }

std::string entry_key(const ChannelRef& c) { return key_id_hex(c.key.id) + "/" + c.name; }

Result<std::optional<ChannelItem>> item_in(const nlohmann::json& j, const ChannelRef& channel) {
  auto it = j.find(entry_key(channel));
  if (it == j.end()) return std::optional<ChannelItem>();
  auto corrupt = [&] {
    return Error::format(channels_file().string() + ": corrupt entry for " + entry_key(channel));
  };
  if (!it->is_object() || !(*it)["seq"].is_number_integer() || !(*it)["value"].is_string() ||
      !(*it)["sig"].is_string() || !(*it)["key"].is_string())
    return corrupt();
  if ((*it)["key"].get<std::string>() != channel.key.to_base64()) return corrupt();
  auto value = bytes_from_hex((*it)["value"].get<std::string>());
  auto sig_bytes = bytes_from_hex((*it)["sig"].get<std::string>());
  if (!value || !sig_bytes || sig_bytes->size() != 64) return corrupt();
  Ed25519Signature sig{};
  std::copy(sig_bytes->begin(), sig_bytes->end(), sig.begin());
  auto item = open_channel_item(channel, (*it)["seq"].get<std::int64_t>(),
                                *value, sig);
  if (!item) return Error::format(channels_file().string() + ": " + item.error().message);
  return std::optional<ChannelItem>(std::move(*item));
}

}  // namespace

Status record_channel_item(const ChannelItem& item) {
  MS_ASSIGN_OR_RETURN(StateLock lock, StateLock::acquire());
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_state_object(channels_file()));
  MS_ASSIGN_OR_RETURN(std::optional<ChannelItem> old, item_in(j, item.channel));
  if (old && old->seq >= item.seq) return Status::success();
  j[entry_key(item.channel)] = {
      {"key", item.channel.key.to_base64()},
      {"seq", item.seq},
      {"value", to_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(item.value.data()), item.value.size()))},
      {"sig", to_hex(item.signature)}};
  return write_file_atomic(channels_file(), j.dump(1) + "\n", 0644);
}

Result<std::optional<ChannelItem>> recorded_channel_item(const ChannelRef& channel) {
  MS_ASSIGN_OR_RETURN(nlohmann::json j, load_state_object(channels_file()));
  return item_in(j, channel);
}

Result<std::int64_t> channel_floor(const ChannelRef& channel) {
  std::int64_t floor = 0;
  MS_ASSIGN_OR_RETURN(auto seen, highest_seen_version(key_id_hex(channel.key.id), channel.name));
  if (seen) floor = static_cast<std::int64_t>(std::min<uint64_t>(*seen, INT64_MAX));
  MS_ASSIGN_OR_RETURN(auto item, recorded_channel_item(channel));
  if (item) floor = std::max(floor, item->seq);
  return floor;
}

}  // namespace modelswarm
