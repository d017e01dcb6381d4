// Private: turning what the user typed (a magnet link or a .torrent path) into add_torrent_params.
#pragma once

#include <libtorrent/add_torrent_params.hpp>

#include <string>

#include "modelswarm/error.hpp"

namespace modelswarm::swarm {

namespace lt = libtorrent;

struct Source {
  lt::add_torrent_params atp;
  // The .torrent file's bytes (piece layers included); empty for a magnet link.
  std::string torrent;
};

// magnet:?xt=... (metadata comes from peers), a .torrent file (keeps its web seeds/trackers) or
// the http:// URL of a release directory (its .torrent, the directory as a web seed).
Result<Source> params_from_source(const std::string& source);
// Loads a .torrent file (piece layers included).
Result<lt::add_torrent_params> load_torrent(const std::string& path);

}  // namespace modelswarm::swarm
