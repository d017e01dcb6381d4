// Offline bundles: a whole release in one file (`modelswarm export` / `import`), for sites that
// cannot join a swarm. The container layout is in lib/src/bundle/bundle_format.hpp (internal).
//
// Two levels:
//  - the container: write_bundle() / BundleReader, in terms of a BundleLayout (files split into
//    pieces, each with its SHA-256 and, for float tensors, the element width to byte-group);
//  - the release: export_release_bundle() / import_release_bundle(), which take the layout from
//    the signed manifest and produce the same directory a fetch would.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/sha256.hpp"

namespace modelswarm {

struct BundleHeader;
struct Manifest;
struct TrustOptions;

// One manifest chunk as the container sees it.
struct BundlePiece {
  uint64_t offset = 0;
  uint64_t size = 0;
  Sha256Digest sha256{};
  unsigned float_width = 0;  // 2 (BF16/F16) or 4 (F32): byte-grouped before compression; else 0
};

struct BundleFile {
  std::string path;  // relative, already validated (the manifest's rules)
  uint64_t size = 0;
  std::vector<BundlePiece> pieces;  // contiguous, in offset order, covering [0, size) exactly
};

struct BundleLayout {
  std::vector<BundleFile> files;
  uint64_t total_bytes() const;
};

// Element width to byte-group for a tensor dtype ("BF16"/"F16" -> 2, "F32" -> 4, else 0).
unsigned float_width_for_dtype(std::string_view dtype);
// The layout of a release: one piece per manifest chunk, in manifest order.
BundleLayout bundle_layout(const Manifest& m);

// The small sections stored verbatim after the header.
struct BundleSections {
  std::string manifest;
  std::string signature;
  std::string torrent;  // empty when the release has none
};

using BundleProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct BundleWriteOptions {
  int level = 1;  // zstd level; 1 measured best on byte-grouped BF16 (see scripts/bench_bundle.sh)
  uint64_t frame_bytes = 4ull << 20;  // a chunk larger than this spans several frames
  unsigned threads = 0;               // 0: all cores
  // Raw bytes done / total, called on the calling thread only (as each frame is written).
  BundleProgressFn progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct BundleStats {
  uint64_t bytes_in = 0;   // bytes read (release bytes on export, bundle bytes on import)
  uint64_t bytes_out = 0;  // bytes written
  uint64_t frames = 0;
  uint64_t raw_frames = 0;      // frames stored uncompressed because zstd did not shrink them
  uint64_t grouped_frames = 0;  // frames byte-grouped before zstd
  double seconds = 0;           // wall time, sync_seconds included
  double sync_seconds = 0;      // of which waiting for the disk (fdatasync)
};

// Writes `out` (via a temporary name in the same directory, renamed when complete). Reads the
// files of `layout` under `source_dir`, checks every piece's SHA-256 on the way (content error
// naming the file and chunk: a bundle of bad data would only be refused on import).
// REQUIRES: frame_bytes in [64 KiB, 64 MiB] (the container's largest frame).
Result<BundleStats> write_bundle(const std::filesystem::path& out, const BundleSections& sections,
                                 const BundleLayout& layout,
                                 const std::filesystem::path& source_dir,
                                 const BundleWriteOptions& options);

struct BundleExtractOptions {
  unsigned threads = 0;  // 0: all cores
  // fdatasync every file before returning (and the importer syncs the directories after the
  // renames), so a crash after import cannot leave a file that was never written to disk under
  // its final name. Off trades that for speed: the disk, not decoding, bounds a synced import.
  bool sync = true;
  // Raw bytes done / total, called from every decoding thread, one call at a time and with
  // `done` increasing.
  BundleProgressFn progress;
  const std::atomic<bool>* cancel = nullptr;
};

// An open bundle whose header and small sections have been read and bounded; nothing in it is
// trusted yet. Move-only; closes the file on destruction.
class BundleReader {
 public:
  // Errors: io (open/read), format (not a bundle, truncated, lengths out of range),
  // unsupported (another container version).
  static Result<BundleReader> open(const std::filesystem::path& path);

  BundleReader(BundleReader&& o) noexcept;
  BundleReader& operator=(BundleReader&& o) noexcept;
  BundleReader(const BundleReader&) = delete;
  BundleReader& operator=(const BundleReader&) = delete;
  ~BundleReader();

  const BundleSections& sections() const { return sections_; }
  uint64_t file_size() const;

  // Reads and checks the index against `layout` (format error when the frames do not tile its
  // files exactly, chunk by chunk), then decodes every frame in parallel into
  // dest_dir/<file path> (created, parents included), checking each piece's SHA-256
  // (content error naming the file and chunk). On error, files under dest_dir may be partial:
  // callers extract into a staging directory.
  Result<BundleStats> extract(const BundleLayout& layout, const std::filesystem::path& dest_dir,
                              const BundleExtractOptions& options) const;

 private:
  BundleReader() = default;
  int fd_ = -1;
  std::string name_;
  std::unique_ptr<BundleHeader> header_;  // bundle_format.hpp stays internal
  BundleSections sections_;
};

struct ExportOptions {
  BundleWriteOptions write;
};

// Bundles the release in `release_dir` (manifest, signature, torrent if present, every file).
// The manifest is parsed (format error) but its signature is not checked against a trust
// store: the importer does that; the chunk hashes are checked while reading.
Result<BundleStats> export_release_bundle(const std::filesystem::path& release_dir,
                                          const std::filesystem::path& out,
                                          const ExportOptions& options);

struct ImportOptions {
  const TrustOptions* trust = nullptr;  // REQUIRES: non-null
  bool record = true;                   // remember the version (rollback protection)
  BundleExtractOptions extract;
};

struct ImportResult {
  BundleStats stats;
  std::filesystem::path release_dir;  // parent_dir / name
  std::string name;
  uint64_t version = 0;
  std::string key_id;
  bool torrent = false;  // the bundle carried a torrent, checked against the manifest and written
};

// Verifies the bundle's manifest signature (trust error), then extracts every file into a
// staging directory inside the release directory, checks every chunk, and only then renames
// the files into place. The release directory is parent_dir/NAME, as `fetch` lays it out:
// NAME/<path>, NAME/.modelswarm/manifest.json(.minisig)[, release.torrent].
// On any error nothing is left under a final name. A final name that already exists is an io
// error before anything is written.
Result<ImportResult> import_release_bundle(const std::filesystem::path& bundle,
                                           const std::filesystem::path& parent_dir,
                                           const ImportOptions& options);

}  // namespace modelswarm
