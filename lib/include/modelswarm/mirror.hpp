// Mirroring: keep a set of releases present and current, unattended. A mirror file (JSON,
// schema manifests/mirror.schema.json) lists releases; run_mirror() fetches what is missing or
// newer, verifies it, and reports one result per release. Nothing is fetched twice: a release
// already registered at its destination with a valid signature and the signed file sizes is
// "up to date" without reading its data.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/swarm.hpp"

namespace modelswarm {

inline constexpr std::string_view kMirrorFormat = "modelswarm.mirror/1";

struct MirrorEntry {
  // Magnet link, .torrent path, release URL, or a channel KEY/NAME (channel.hpp): the item the
  // DHT holds at each run, so a higher version is fetched and swapped in as with `track`.
  std::string source;
  // Publisher keys ("RW..." or .pub paths); at least one, except for a channel, whose key is
  // trusted for it.
  std::vector<std::string> trust;
  std::filesystem::path dest;         // the release lands in dest/<name>
  // A file the publisher rewrites when a new version is out: it holds a magnet link (one line)
  // or is a .torrent. When set and readable it is used instead of `source`, and a newer
  // version replaces the one in dest/<name> (atomically swapped in once verified).
  std::optional<std::filesystem::path> track;
};

struct MirrorFile {
  std::vector<MirrorEntry> releases;
  std::vector<std::string> peers;     // "HOST:PORT" for every release (optional)
  std::vector<std::string> trackers;  // announce URLs for every release (optional)
};

// Strict parse: unknown keys, wrong types, empty trust lists are format errors naming `origin`.
// Relative `dest`/`track`/.torrent paths are resolved against `base_dir` (the file's directory).
Result<MirrorFile> parse_mirror_file(std::string_view json, std::string_view origin,
                                     const std::filesystem::path& base_dir);
Result<MirrorFile> load_mirror_file(const std::filesystem::path& path);

struct MirrorResult {
  enum class Status { up_to_date, fetched, updated, failed };
  Status status = Status::failed;
  std::string source;             // what was resolved (track content or source)
  std::string name;
  std::int64_t version = 0;
  std::string info_hash;
  std::filesystem::path dir;
  std::int64_t bytes_downloaded = 0;
  double seconds = 0;
  std::optional<Error> error;     // set when failed
};
const char* mirror_status_name(MirrorResult::Status s);

struct MirrorOptions {
  swarm::EventCallback on_event;  // swarm progress of the fetches, may be empty
  std::function<void(const MirrorResult&)> on_result;  // after each release
  std::chrono::seconds stall_timeout{300};  // per release, see FetchOptions
  swarm::HttpOptions http;        // for release URL sources
};

// Processes every entry in order with one session; a failed entry does not stop the others.
// `stop` interrupts the current fetch (its result: failed, ErrorCode::interrupted).
std::vector<MirrorResult> run_mirror(swarm::Session& session, const MirrorFile& file,
                                     const MirrorOptions& options, const std::atomic<bool>& stop);

// What run_mirror would report as up to date for `e`, without a session and without fetching:
// the release its source names is registered in e.dest and still holds the signed manifest and
// sizes. nullopt when it is not held (or the source cannot be resolved now).
std::optional<MirrorResult> find_held_release(const MirrorEntry& e, const MirrorOptions& options,
                                              const std::atomic<bool>& stop);

// The signed manifest of the release in `dir` when a key of `trust` signed it and every file has
// its signed size (no data is read). What the mirror checks before it calls a release held.
Result<Manifest> check_held_release(const std::filesystem::path& dir, const std::vector<std::string>& trust);

}  // namespace modelswarm
