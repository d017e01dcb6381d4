// The gateway: the part of the Hugging Face Hub's HTTP API that downloads use, answered from
// signed releases, so that clients pointed at it (HF_ENDPOINT, hubUrl) get verified bytes.
//
// A catalogue (JSON, schema manifests/catalogue.schema.json) maps repo ids and revisions to
// releases. A release that is not held here is fetched through the swarm (mirror.hpp) on the
// first request that needs it; every held release is seeded. Files are served only from a
// release whose signature verified and whose files are unchanged since they were hashed here
// (their stamps still match the registry's seed record).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/mirror.hpp"
#include "modelswarm/swarm.hpp"

namespace modelswarm {

inline constexpr std::string_view kCatalogueFormat = "modelswarm.catalogue/1";

struct CatalogueRelease {
  std::int64_t version = 0;           // must equal the signed manifest's version
  std::string source;                 // magnet link, .torrent path or release URL
  std::vector<std::string> trust;     // publisher keys ("RW..." or .pub paths); at least one
  std::vector<std::string> revisions; // extra revision names (tags, branches) besides the commit id
  std::filesystem::path dest;         // the release lives in dest/<name>
};

struct CatalogueRepo {
  std::string id;                          // "org/name" or "name"
  std::vector<CatalogueRelease> releases;  // `main` is the highest version
};

struct Catalogue {
  std::vector<CatalogueRepo> repos;
  std::vector<std::string> peers;     // "HOST:PORT" for every release (optional)
  std::vector<std::string> trackers;  // announce URLs for every release (optional)

  const CatalogueRepo* find(std::string_view repo_id) const;
};

// Strict parse, as parse_mirror_file: unknown keys, wrong types, duplicate versions or revision
// names in a repo are format errors naming `origin`. Relative paths are resolved against
// `base_dir`; a release without "dest" lives under STORE/<repo id with '/' as '--'>/<version>,
// STORE being the catalogue's "store".
Result<Catalogue> parse_catalogue(std::string_view json, std::string_view origin,
                                  const std::filesystem::path& base_dir);
Result<Catalogue> load_catalogue(const std::filesystem::path& path);

// The commit id the gateway reports for a release: the first 40 hex digits of its info hash,
// which is what the Hub's clients expect a revision id to look like (and content-derived).
std::string commit_id_for(const std::string& info_hash);

struct GatewayOptions {
  // HTTP listen address, "IP:PORT" (port 0: any free port, see on_listening).
  std::string listen = "127.0.0.1:8080";
  swarm::SessionSettings seeding;     // the seeding session; fetches use these with port 0
  // How long a request waits for a release being fetched before it is answered 503 with
  // Retry-After; 0 answers at once.
  std::chrono::seconds wait{60};
  std::chrono::seconds retry_after{10};
  // A failed fetch is not tried again for this long (requests meanwhile get its error).
  std::chrono::seconds retry_failed{30};
  std::chrono::seconds stall_timeout{300};  // per fetch, as MirrorOptions
  // Idle keep-alive connections are closed after this long.
  std::chrono::seconds idle_timeout{60};
  swarm::HttpOptions http;
  swarm::EventCallback on_event;  // both swarm sessions; called from two threads
  std::function<void(int port)> on_listening;
  std::function<void(const MirrorResult&)> on_release;  // held at start, fetched, or failed
  // One line per request ("GET /org/m/resolve/main/x 200 12345"), may be empty.
  std::function<void(const std::string&)> on_request;
};

// Serves until `stop` becomes true, then stops seeding (resume data saved) and returns.
// Errors: the listen address cannot be bound (network), the catalogue's keys do not load.
Status run_gateway(const Catalogue& catalogue, const GatewayOptions& options,
                   const std::atomic<bool>& stop);

}  // namespace modelswarm
