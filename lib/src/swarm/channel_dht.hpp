// Private to lib/src/swarm: channel items (channel.hpp) on libtorrent's DHT, shared by the
// one-shot lookups and puts (channel_dht.cpp) and by seed's keep-alive (channel_keeper.cpp).
#pragma once

#include <libtorrent/alert_types.hpp>
#include <libtorrent/session.hpp>

#include <optional>
#include <string>

#include "modelswarm/channel.hpp"
#include "modelswarm/error.hpp"

namespace modelswarm::swarm {

namespace lt = libtorrent;

std::array<char, 32> dht_key(const PublicKey& key);
// True when the alert answers a lookup or a put of `channel`.
bool is_about(const ChannelRef& channel, const std::array<char, 32>& key, const std::string& salt);
// Starts a lookup; answers come as dht_mutable_item_alerts (one per newer item, then an
// authoritative one when the lookup ends).
void start_get(lt::session& ses, const ChannelRef& channel);
// The alert's item checked against `channel`: nullopt when the alert carries none; an error when
// it carries one that does not check out.
Result<std::optional<ChannelItem>> item_from_alert(const ChannelRef& channel,
                                                    const lt::dht_mutable_item_alert& a);
// Puts the item verbatim; answered by a dht_put_alert.
void start_put(lt::session& ses, const ChannelItem& item);
// The routing table's size from a dht_stats_alert.
int routing_nodes(const lt::dht_stats_alert& a);

}  // namespace modelswarm::swarm
