// What changed between two releases, chunk by chunk (a chunk is a tensor, a model file's header,
// or a whole non-model file; see manifest.hpp), and what a fetch of the second would transfer
// from peers when the first is already on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/manifest.hpp"

namespace modelswarm {

// A release to compare: its manifest, and the piece size of its torrent when known.
struct LoadedRelease {
  Manifest manifest;
  std::filesystem::path dir;  // empty when loaded from a manifest file outside a release
  uint64_t piece_size = 0;    // from DIR/.modelswarm/release.torrent; 0 when absent
};

// Loads a release directory (DIR/.modelswarm/manifest.json, and the torrent's piece size when
// DIR/.modelswarm/release.torrent exists) or a manifest file. The signature is NOT checked:
// diff compares descriptions, and the reuse engine re-hashes every byte it takes.
// Errors: io (missing/unreadable), format (not a manifest).
Result<LoadedRelease> load_release_description(const std::filesystem::path& dir_or_manifest);

struct ChunkChange {
  enum class Kind { added, removed, changed, moved };
  Kind kind = Kind::added;
  std::string name;  // tensor name, "(header)" or "(file)"
  // Where the chunk is in A and in B (absent for added / removed).
  std::optional<std::string> path_a, path_b;
  uint64_t offset_a = 0, offset_b = 0, size_a = 0, size_b = 0;
  std::optional<std::string> dtype_a, dtype_b;
};
std::string_view chunk_change_name(ChunkChange::Kind k);

struct ReleaseDiff {
  std::vector<ChunkChange> changes;  // in B's file/offset order, then removed ones in A's order
  uint64_t unchanged = 0;            // chunks with the same content, file and offset
  uint64_t chunks_a = 0, chunks_b = 0;
  uint64_t bytes_a = 0, bytes_b = 0;  // total file bytes
  // Bytes of B's chunks whose SHA-256 is not among A's chunks: what a fetch of B must get
  // from peers if piece boundaries did not matter.
  uint64_t transfer_bytes = 0;
  uint64_t reusable_bytes = 0;  // bytes_b - transfer_bytes
  // With B's piece size known: the bytes of every piece of B not wholly made of reusable
  // chunks (libtorrent downloads and checks whole pieces). 0 when piece_size is 0.
  uint64_t piece_size = 0;
  uint64_t transfer_bytes_pieces = 0;
};

// Matches chunks by file path and name first, then by name alone across files (a tensor that
// moved to another shard), so each chunk of A and of B is in at most one pair. A pair with equal
// SHA-256 is unchanged (same path and offset) or moved; with different SHA-256, changed.
// `piece_size` (power of two, or 0) is B's torrent piece size for transfer_bytes_pieces.
ReleaseDiff diff_manifests(const Manifest& a, const Manifest& b, uint64_t piece_size = 0);

}  // namespace modelswarm
