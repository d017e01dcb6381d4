// Private: a minimal HTTP/1.0 GET (plain http only) for fetching a release.torrent from a web
// server that also serves the release as a web seed.
#pragma once

#include <chrono>
#include <string>

#include "modelswarm/error.hpp"

namespace modelswarm::swarm {

// Returns the body of a 200 response, at most `max_bytes`; network error otherwise.
Result<std::string> http_get(const std::string& url, std::size_t max_bytes,
                             std::chrono::seconds timeout = std::chrono::seconds(30));

}  // namespace modelswarm::swarm
