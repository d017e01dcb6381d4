// Content-addressed reuse: the chunks of a new release (tensors, headers, whole small files,
// addressed by SHA-256 in the signed manifest) that some release already on this machine holds
// are copied into the new release's files before anything is downloaded.
//
// Safety does not depend on the old releases: every byte taken from an old file is hashed and
// compared with the NEW manifest's chunk SHA-256 before it counts, so a corrupted or tampered
// old release contributes nothing (its chunk is skipped and downloaded instead).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/manifest.hpp"

namespace modelswarm {

// A release on disk that may hold chunks of a new one.
struct ReuseSource {
  std::filesystem::path dir;  // its files are DIR/<manifest path>
  Manifest manifest;          // not trusted: only its chunk table is used, to find candidates
};

// Every registered release (registry.hpp) whose manifest can still be read. Entries whose
// directory or manifest is gone are skipped and described in `problems` (one line each).
Result<std::vector<ReuseSource>> registered_sources(std::vector<std::string>* problems = nullptr);

struct ByteRange {
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct ReuseOptions {
  unsigned threads = 0;  // 0: all cores
  // Chunk (file index into the target manifest, chunk) the target already holds and that must
  // not be rewritten, e.g. pieces a resumed download already verified. Called on the calling
  // thread only, before any copy starts.
  std::function<bool(size_t file, const Chunk& chunk)> already_present;
  // Try FICLONERANGE for block-aligned ranges (shares extents, no data written).
  bool reflink = true;
  // Bytes of candidate chunks done so far: called from the worker threads, but one call at a
  // time and with `done` increasing.
  std::function<void(uint64_t done, uint64_t total)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct ReuseReport {
  uint64_t chunks_total = 0;
  uint64_t chunks_reused = 0;      // copied or cloned, hash checked
  uint64_t chunks_present = 0;     // skipped because already_present said so
  uint64_t chunks_rejected = 0;    // a candidate's bytes did not hash to the new manifest's value
  uint64_t bytes_reused = 0;       // sum of reused chunk sizes
  uint64_t bytes_reflinked = 0;    // of those, shared by FICLONERANGE rather than copied
  uint64_t bytes_read = 0;         // read from old files (including rejected candidates)
  // Per target file (parallel to the manifest's files): chunk ranges now holding bytes that
  // hash to the manifest's value (reused or already present), sorted, not merged.
  std::vector<std::vector<ByteRange>> present;
  std::vector<std::string> warnings;  // one line per rejected candidate or unreadable source
};

// Fills TARGET_DIR/<path> for every file of `target` with each chunk some source holds.
// A target file is created only when at least one of its chunks is available, and is given its
// final size (created files are sparse until written).
// Candidates are tried in order until one hashes correctly; chunks are processed in parallel,
// largest first. A candidate that hashes wrongly is erased from the target range again (a hole,
// or zeros), so no byte of it is used, even where a later piece check would accept it.
// Errors: io (the target cannot be created or written), interrupted. An unreadable source is
// a warning, not an error.
Result<ReuseReport> reuse_chunks(const Manifest& target, const std::filesystem::path& target_dir,
                                 const std::vector<ReuseSource>& sources,
                                 const ReuseOptions& options = {});

// reuse_chunks from registered_sources(); registry problems are added to the warnings.
Result<ReuseReport> reuse_registered(const Manifest& target, const std::filesystem::path& target_dir,
                                     const ReuseOptions& options = {});

// Bytes a BitTorrent v2 download must still transfer: the sizes of all pieces (per file,
// aligned to the file's start, the last one short) that are not wholly covered by `present`
// (per manifest file, as in ReuseReport::present). REQUIRES: piece_size > 0.
uint64_t bytes_to_download(const Manifest& m, const std::vector<std::vector<ByteRange>>& present,
                           uint64_t piece_size);

}  // namespace modelswarm
