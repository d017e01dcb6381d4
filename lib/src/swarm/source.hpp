// Private: turning what the user typed (a magnet link, a .torrent path or a release URL) into
// add_torrent_params.
#pragma once

#include <libtorrent/add_torrent_params.hpp>

#include <atomic>
#include <string>

#include "modelswarm/error.hpp"
#include "modelswarm/swarm.hpp"

namespace modelswarm::swarm {

namespace lt = libtorrent;

struct Source {
  lt::add_torrent_params atp;
  // The .torrent file's bytes (piece layers included); empty for a magnet link.
  std::string torrent;
};

// magnet:?xt=... (metadata comes from peers), a .torrent file (keeps its web seeds/trackers) or
// the http(s):// URL of a release directory (its .torrent, the directory as a web seed).
// `stop` interrupts the download of a release URL's .torrent.
Result<Source> params_from_source(const std::string& source, const HttpOptions& http,
                                  const std::atomic<bool>* stop = nullptr);
// Loads a .torrent file (piece layers included).
Result<lt::add_torrent_params> load_torrent(const std::string& path);

}  // namespace modelswarm::swarm
