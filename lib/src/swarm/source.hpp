// Private: turning what the user typed (a magnet link, a .torrent path or a release URL) into
// add_torrent_params.
#pragma once

#include <libtorrent/add_torrent_params.hpp>

#include <atomic>
#include <optional>
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
// The copies of the manifest and its signature a release.torrent carries at its top level
// (kTorrentManifestKey); nullopt when it has none (made before they were embedded, or by another
// tool) or when either is empty or over its cap. Unchecked: the caller verifies them.
struct EmbeddedMeta {
  std::string manifest, signature;
};
std::optional<EmbeddedMeta> embedded_release_meta(const std::string& torrent_bytes);
// Loads a .torrent file (piece layers included).
Result<lt::add_torrent_params> load_torrent(const std::string& path);

}  // namespace modelswarm::swarm
