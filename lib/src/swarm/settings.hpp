// Private: how SessionSettings become a libtorrent settings_pack.
#pragma once

#include <libtorrent/ip_filter.hpp>
#include <libtorrent/settings_pack.hpp>

#include <string>

#include "modelswarm/swarm.hpp"

namespace modelswarm::swarm {

namespace lt = libtorrent;

// `peer_id`: exactly 20 bytes. Fails on a bad item of s.libtorrent_settings.
Result<lt::settings_pack> to_settings_pack(const SessionSettings& s, const std::string& peer_id);
// A peer-class filter putting every IPv4/IPv6 address in the global (rate-limited) class.
lt::ip_filter all_peers_global_class();

}  // namespace modelswarm::swarm
