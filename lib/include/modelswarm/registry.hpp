// The local registry of releases packed, fetched or verified on this machine, so that later
// commands (list, run, seed, and reuse by later fetches, see store.hpp) can find them without
// being told where they are.
//
// Format: one JSON file per release, state_dir()/releases/<info-hash>.json, written atomically:
//   {"format": "modelswarm.registry/1", "name": "...", "version": 3,
//    "dir": "/abs/path/to/release", "manifest": "/abs/path/to/release/.modelswarm/manifest.json",
//    "info_hash": "<hex>", "publisher": "RW...", "registered": "2026-01-01T00:00:00Z",
//    "files": [{"path": "model.gguf", "size": N, "mtime_ns": N, "ctime_ns": N, "inode": N,
//               "device": N}, ...]}
// "files" is the seed record (file_stamp.hpp): the files this machine hashed, or received
// through verified pieces, with what proves them unchanged since; `seed` serves those at once.
// Unknown keys are ignored when reading, so later versions may add fields. The id ("info_hash")
// is the torrent's v2 info hash, or the SHA-256 of the manifest for a release without a torrent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/file_stamp.hpp"

namespace modelswarm {

struct Manifest;

struct RegistryEntry {
  std::string name;
  std::uint64_t version = 0;
  std::filesystem::path dir;       // absolute release directory
  std::filesystem::path manifest;  // absolute path of its .modelswarm/manifest.json
  std::string info_hash;           // hex; also the file name
  std::string publisher_key;       // "RW..."
  std::string registered;          // RFC 3339 UTC, set by register_release()
  std::vector<FileStamp> stamps;   // the seed record; paths relative to `dir`
};

// state_dir()/releases
std::filesystem::path registry_dir();
// Writes (or replaces) the entry for entry.info_hash.
Status register_release(RegistryEntry entry);
// Every readable entry; unreadable files are skipped (they are reported in `problems`).
Result<std::vector<RegistryEntry>> list_registered(std::vector<std::string>* problems = nullptr);

// Registers the release in `dir` (which holds `m` as its manifest): the id is the v2 info hash of
// DIR/.modelswarm/release.torrent when present, else the SHA-256 of the manifest file. A
// directory holds one release: other entries for the same directory are removed.
// `proven`: stamps of files taken before they were hashed and found to match `m` (PackResult,
// ContentReport); those still unchanged, and the two signed .modelswarm files, make the entry's
// seed record.
Status register_release_dir(const std::filesystem::path& dir, const Manifest& m,
                            const std::vector<FileStamp>& proven = {});

// The entry with exactly this id, if any (io error only when the registry cannot be read).
Result<std::optional<RegistryEntry>> registered_by_id(const std::string& info_hash);

// Removes the entry with this id (the files stay). invalid_argument when there is none.
Status forget_release(const std::string& info_hash);

// Entries matching `selector`: an id or a prefix of at least 8 of its hex digits, a release
// NAME, NAME@VERSION, or an existing directory (the release in it).
Result<std::vector<RegistryEntry>> find_registered(std::string_view selector);

}  // namespace modelswarm
