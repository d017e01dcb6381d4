// Private: turning what the user typed (a magnet link or a .torrent path) into add_torrent_params.
#pragma once

#include <libtorrent/add_torrent_params.hpp>

#include <string>

#include "modelswarm/error.hpp"

namespace modelswarm::swarm {

namespace lt = libtorrent;

// magnet:?xt=... (metadata comes from peers) or a .torrent file (keeps its web seeds/trackers).
Result<lt::add_torrent_params> params_from_source(const std::string& source);
// Loads a .torrent file (piece layers included).
Result<lt::add_torrent_params> load_torrent(const std::string& path);

}  // namespace modelswarm::swarm
