// Releases: pack a directory of model files into a signed, torrent-described release, and
// verify one offline. Also the pieces the swarm module needs to check a release as it arrives.
//
// A release directory holds the model files plus
//   .modelswarm/manifest.json          canonical JSON (manifest.hpp)
//   .modelswarm/manifest.json.minisig  minisign prehashed signature of it
//   .modelswarm/release.torrent        BitTorrent v2 torrent (not part of its own content)
// The torrent's root directory is the release name; it lists every model file and the two
// manifest files. Anything else under .modelswarm/ is private state and is ignored.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/file_stamp.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/minisign.hpp"

namespace libtorrent {
class torrent_info;
}

namespace modelswarm {

// Bytes hashed / total. Called from the hashing threads, one call at a time and with `done`
// increasing, so a callback needs no lock of its own.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct PackOptions {
  std::string name;
  uint64_t version = 0;
  std::optional<int64_t> expires;  // seconds since the epoch
  // Recorded as `created`; when unset, SOURCE_DATE_EPOCH if set, else the current time.
  std::optional<int64_t> created;
  const SecretKey* key = nullptr;  // REQUIRES: non-null
  bool hybrid = false;             // v1+v2 torrent (costs an extra SHA-1 pass over the data)
  uint64_t piece_size = 0;         // power of two >= 16 KiB; 0 chooses 4..16 MiB by size
  std::vector<std::string> trackers;
  std::vector<std::string> web_seeds;  // BEP 19 url-list
  // Packing a single file: the release directory to create (hard link, else copy, of the
  // file inside it). Default: a directory named after the release next to the file.
  std::optional<std::filesystem::path> single_file_dir;
  unsigned threads = 0;
  ProgressFn progress;
  const std::atomic<bool>* cancel = nullptr;
  // What this machine remembers this key signed (trust.hpp) guards the publisher's mistakes:
  // a version lower than one already signed for this name needs allow_downgrade, and a
  // different manifest for a version already signed (equivocation: fetchers that saw the first
  // refuse the second) needs resign.
  bool allow_downgrade = false;
  bool resign = false;
  std::optional<int64_t> now;  // for the expiry check; default: the current time
};

struct PackResult {
  std::filesystem::path release_dir;
  Manifest manifest;
  std::string magnet;          // magnet:?xt=urn:btmh:1220<hex>&dn=NAME[&tr=...]
  std::string info_hash_v2;    // hex SHA-256 info hash
  std::string info_hash_v1;    // hex SHA-1, only for hybrid torrents
  uint64_t piece_size = 0;
  uint64_t bytes_hashed = 0;   // bytes of model data read
  // The model files as they were stamped before they were hashed (file_stamp.hpp), for
  // register_release_dir: a later `seed` serves the files whose stamp still matches at once.
  std::vector<FileStamp> stamps;
};

// Packs `path` (a directory, or a single file, see PackOptions::single_file_dir). Rewrites the
// three .modelswarm/ files atomically; touches nothing else (except creating the directory
// for a single file). Packing the same content again under the same version keeps the earlier
// manifest's creation date, so the signed manifest comes out identical. Errors:
// invalid_argument (options, an expiry in the past, a downgrade or re-sign not allowed),
// unsupported (symlinks or special files in the release), io, format (an unreadable model
// header), interrupted.
Result<PackResult> pack_release(const std::filesystem::path& path, const PackOptions& options);

// Default piece size for a release of `total_bytes`: 4 MiB up to 4 GiB, 8 MiB up to 16 GiB,
// 16 MiB above.
uint64_t default_piece_size(uint64_t total_bytes);

struct TrustOptions {
  std::vector<PublicKey> trusted_keys;  // the release must be signed by one of these
  bool allow_downgrade = false;         // accept a version lower than the highest seen
  std::optional<int64_t> now;           // for expiry; default: the current time
};

struct VerifiedManifest {
  Manifest manifest;
  Signature signature;
  PublicKey key;                // the trusted key that signed it
  Sha256Digest manifest_sha256;  // of the signed bytes: what equivocation checks compare
};

// Checks a manifest and its signature without reading any release file: signature by a
// trusted key (trust error otherwise), then strict parse (format error), publisher == signer,
// expiry, rollback and equivocation (a different manifest for a version already accepted here;
// trust errors). Records nothing (see record_release_seen).
Result<VerifiedManifest> load_and_verify_manifest(std::string_view manifest_bytes,
                                                  std::string_view signature_bytes,
                                                  const TrustOptions& trust);

// Remembers the manifest's version as seen for its key id + name (rollback protection) and its
// digest for that version (equivocation; a trust error if another was recorded meanwhile).
Status record_release_seen(const VerifiedManifest& v);

// The torrent must list exactly the manifest's files plus the two manifest files under a root
// directory named after the release, with equal sizes and v2 pieces roots. Content error
// otherwise (format error for a torrent without v2 metadata).
Status check_torrent_matches_manifest(const libtorrent::torrent_info& torrent, const Manifest& m);

// A .torrent carried with a release (a bundle) must describe exactly it: the manifest match
// above, piece layers that hash to the signed roots (libtorrent does not check them when it
// parses a torrent, and a seeder would serve pieces nobody can verify), and the manifest and
// signature files as these bytes. Format or content errors.
Status check_carried_torrent(std::string_view torrent, const Manifest& m, std::string_view manifest_bytes,
                             std::string_view signature_bytes);

struct TorrentSummary {
  std::string info_hash_v2;  // hex; empty for a v1-only torrent
  uint64_t piece_size = 0;
  std::vector<std::string> trackers;   // announce URLs, all tiers in order
  std::vector<std::string> web_seeds;  // BEP 19 URLs
};
// With `must_match`, the torrent must also pass check_torrent_matches_manifest against it.
Result<TorrentSummary> read_release_torrent(const std::filesystem::path& torrent_file,
                                            const Manifest* must_match = nullptr);

struct ContentProblem {
  enum class Kind { missing, extra, size_mismatch, chunk_mismatch, file_hash_mismatch, unsafe_path };
  Kind kind;
  std::string path;   // relative to the release directory
  std::string chunk;  // tensor/chunk name for chunk_mismatch
  std::string message;  // one line, names the path (and tensor)
};
std::string_view content_problem_name(ContentProblem::Kind k);

struct ChunkCheckOptions {
  bool check_file_sha256 = false;  // also hash whole files (a second pass over every byte)
  // Chunks (file index into Manifest::files, chunk index) that the caller has already hashed
  // and found matching, e.g. while they were downloaded: counted as checked, not read again.
  // The directory checks (missing, extra, sizes, links) are made all the same.
  std::function<bool(size_t file, size_t chunk)> already_verified;
  unsigned threads = 0;
  ProgressFn progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct ContentReport {
  std::vector<ContentProblem> problems;
  uint64_t files_checked = 0;
  uint64_t chunks_checked = 0;
  uint64_t bytes_hashed = 0;
  // Files whose every chunk was hashed here and matched, as stamped before hashing
  // (file_stamp.hpp); empty for a file with a problem.
  std::vector<FileStamp> stamps;
  bool ok() const { return problems.empty(); }
};

// Checks the files of `dir` against `m`: no missing, extra, symlinked or escaping files (the
// .modelswarm/ directory is ignored), sizes, and every chunk's SHA-256 (hashed in parallel).
// Since the chunks of a file cover it exactly, matching chunks mean a matching file; set
// check_file_sha256 to hash whole files as well. Problems are reported, not returned as
// errors; errors are io / interrupted.
Result<ContentReport> verify_chunks(const std::filesystem::path& dir, const Manifest& m,
                                    const ChunkCheckOptions& options = {});

struct VerifyOptions {
  TrustOptions trust;
  bool record = true;  // remember the version on success (rollback protection)
  ChunkCheckOptions content;
};

struct VerifyReport {
  VerifiedManifest verified;
  ContentReport content;
  bool ok() const { return content.ok(); }
};

// Where fetch, import and mirror may put a new release: `final_dir` must not exist, or be an
// empty directory that is not a symbolic link. Anything else (files of any kind, a link that
// could carry the writes out of the output directory) is an invalid_argument error naming it.
Status check_release_destination(const std::filesystem::path& final_dir);

// Every component of `rel` below `dir` is a real directory or, the last one, a regular file:
// no symbolic link can make a release serve or read bytes from outside it. Content error.
Status check_regular_in_release(const std::filesystem::path& dir, const std::string& rel);

struct StampedVerify {
  bool from_stamp = false;  // verified before, nothing changed since: no byte was read
  std::string name;         // set when verified now
  uint64_t version = 0;
};
// verify_release, skipped when a stamp in state_dir()/verified/ says that this exact state
// verified before: the manifest and signature bytes, the trusted keys, the directory, and every
// file's mode, size, mtime, ctime and inode. A release with content problems is a content
// error (nothing is stamped). For commands that use a release rather than check it (run).
Result<StampedVerify> verify_release_stamped(const std::filesystem::path& dir, const VerifyOptions& options);

// load_and_verify_manifest on DIR/.modelswarm/* then verify_chunks. Trust and format failures
// are errors; content problems are in the report (ok() false). Nothing in DIR is modified.
Result<VerifyReport> verify_release(const std::filesystem::path& dir, const VerifyOptions& options);

}  // namespace modelswarm
