// The signed description of a release (format id "modelswarm.manifest/1", JSON Schema in
// manifests/manifest.schema.json). Serialization is canonical: sorted keys, files sorted by
// path, chunks by offset, two-space indentation, a final newline; the same Manifest always
// gives the same bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/sha256.hpp"

namespace modelswarm {

inline constexpr std::string_view kManifestFormat = "modelswarm.manifest/1";
// Files inside a release directory that belong to modelswarm, not to the release content.
inline constexpr std::string_view kReleaseMetaDir = ".modelswarm";
inline constexpr std::string_view kManifestPath = ".modelswarm/manifest.json";
inline constexpr std::string_view kSignaturePath = ".modelswarm/manifest.json.minisig";
inline constexpr std::string_view kTorrentPath = ".modelswarm/release.torrent";
// Name of the chunk covering a model file's header (and the padding up to the first tensor),
// and of the single chunk of a file that is not a model.
inline constexpr std::string_view kHeaderChunkName = "(header)";
inline constexpr std::string_view kWholeFileChunkName = "(file)";
inline constexpr size_t kMaxManifestBytes = 256u << 20;
// A minisign signature is under 1 KiB; the cap only bounds what a hostile file can make us read.
inline constexpr size_t kMaxSignatureBytes = 64u << 10;

enum class FileFormat { gguf, safetensors, other };
std::string_view file_format_name(FileFormat f);

struct Chunk {
  std::string name;    // tensor name, kHeaderChunkName or kWholeFileChunkName
  uint64_t offset = 0; // absolute offset in the file
  uint64_t size = 0;   // bytes; a tensor chunk also holds the alignment padding after the tensor
  Sha256Digest sha256{};
  std::optional<std::string> dtype;          // tensors only, e.g. "Q4_0", "BF16"
  std::optional<std::vector<uint64_t>> shape; // tensors only, as the file lists the dims
};

struct ManifestFile {
  std::string path;  // relative, '/'-separated, no "..", ".", empty parts, "\\", or ".modelswarm/"
  uint64_t size = 0;
  Sha256Digest sha256{};
  std::optional<Sha256Digest> pieces_root;  // BitTorrent v2 root; absent exactly when size == 0
  FileFormat format = FileFormat::other;
  std::vector<Chunk> chunks;  // contiguous, in offset order, covering [0, size) exactly
};

struct Publisher {
  std::string key_id;      // 16 upper-case hex digits, as minisign prints it
  std::string public_key;  // "RW..."
};

struct Manifest {
  std::string name;        // [A-Za-z0-9._+-], 1..128 chars, not starting with '.' or '-'
  uint64_t version = 0;    // strictly increasing per publisher key + name
  std::string created;     // RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ"
  std::optional<std::string> expires;  // same form
  Publisher publisher;
  std::vector<ManifestFile> files;  // sorted by path, unique

  const ManifestFile* find_file(std::string_view path) const;
  uint64_t total_size() const;
};

// Canonical JSON bytes (ends with '\n').
std::string serialize_manifest(const Manifest& m);

// Strict parse and validation: unknown keys, wrong types, bad paths, duplicate files, chunks
// that do not cover their file exactly, bad hex, bad dates are all format errors naming
// `origin` and the offending field.
Result<Manifest> parse_manifest(std::string_view json, std::string_view origin = "manifest");

// The checks parse_manifest applies, for a Manifest built in code.
Status validate_manifest(const Manifest& m);

// Path and name rules, exposed for the swarm and store modules.
Status validate_release_path(std::string_view path);
Status validate_release_name(std::string_view name);

// RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" <-> seconds since the epoch (UTC). Parsing also accepts
// "YYYY-MM-DD" (midnight UTC).
std::optional<int64_t> parse_utc_time(std::string_view s);
std::string format_utc_time(int64_t epoch_seconds);

}  // namespace modelswarm
