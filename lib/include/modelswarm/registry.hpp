// The local registry of fetched releases, so that later commands (verify, run, seed, and reuse
// by later fetches) can find them without being told where they are.
//
// Format: one JSON file per release, state_dir()/releases/<info-hash>.json, written atomically:
//   {"format": "modelswarm.registry/1", "name": "...", "version": 3,
//    "dir": "/abs/path/to/release", "manifest": "/abs/path/to/release/.modelswarm/manifest.json",
//    "info_hash": "<hex>", "publisher": "RW...", "registered": "2026-01-01T00:00:00Z"}
// Unknown keys are ignored when reading, so later versions may add fields.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm {

struct RegistryEntry {
  std::string name;
  std::uint64_t version = 0;
  std::filesystem::path dir;       // absolute release directory
  std::filesystem::path manifest;  // absolute path of its .modelswarm/manifest.json
  std::string info_hash;           // hex; also the file name
  std::string publisher_key;       // "RW..."
  std::string registered;          // RFC 3339 UTC, set by register_release()
};

// state_dir()/releases
std::filesystem::path registry_dir();
// Writes (or replaces) the entry for entry.info_hash.
Status register_release(RegistryEntry entry);
// Every readable entry; unreadable files are skipped (they are reported in `problems`).
Result<std::vector<RegistryEntry>> list_registered(std::vector<std::string>* problems = nullptr);

}  // namespace modelswarm
