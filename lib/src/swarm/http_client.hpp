// Private: HTTP(S) GET through libcurl, for the .torrent of a release URL.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

#include "modelswarm/error.hpp"
#include "modelswarm/swarm.hpp"

namespace modelswarm::swarm {

struct HttpResponse {
  std::string body;
  std::string url;  // where the body came from, after redirects
};

// The body of a 200 response to GET `url` (http:// or https://), at most `max_bytes`.
// Errors name `url` and the problem: network (cannot connect, TLS, HTTP status, too many
// redirects, stalled, proxy), format (body larger than max_bytes; options.ca_file not PEM),
// io (options.ca_file unreadable), invalid_argument (malformed URL), interrupted (`stop`).
Result<HttpResponse> http_get(const std::string& url, const HttpOptions& options,
                              std::size_t max_bytes, const std::atomic<bool>* stop = nullptr);

}  // namespace modelswarm::swarm
