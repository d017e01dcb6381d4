// The swarm side of reuse (store.hpp): which chunks a resumed torrent already holds, and the
// event that reports what was reused. Kept apart from fetch.cpp's state machine.
#pragma once

#include <functional>
#include <string>

#include "modelswarm/manifest.hpp"
#include "modelswarm/store.hpp"
#include "session_impl.hpp"

namespace modelswarm::swarm {

// A predicate for ReuseOptions::already_present: chunks of `m` whose pieces the torrent `h`
// already has (verified by libtorrent, e.g. from a killed run's staging). `root` is the
// torrent's top directory (the release name).
std::function<bool(size_t, const Chunk&)> chunks_already_had(const lt::torrent_handle& h,
                                                             const lt::torrent_info& ti,
                                                             const std::string& root, const Manifest& m);

// Fills a `reused` event (stats, and a message with the summary and warnings).
void describe_reuse(const ReuseReport& r, const Manifest& m, std::int64_t piece_size, Event& e);

}  // namespace modelswarm::swarm
