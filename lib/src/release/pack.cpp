// pack_release: one parallel pass over the model files gives every chunk's SHA-256, every
// file's SHA-256 and every file's v2 merkle leaves; the manifest, its signature and the torrent
// are all built from that pass.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "modelswarm/hasher.hpp"
#include "modelswarm/merkle.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/release.hpp"
#include "release/layout.hpp"
#include "release/torrent_build.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

int64_t creation_time(const PackOptions& o) {
  if (o.created) return *o.created;
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
    char* end = nullptr;
    long long v = std::strtoll(sde, &end, 10);
    if (end && *end == 0 && v >= 0) return v;
  }
  return static_cast<int64_t>(std::time(nullptr));
}

// A single file is packed as a release directory holding just that file (a hard link, so no
// bytes are copied; a copy when the file system refuses links).
Result<fs::path> single_file_release_dir(const fs::path& file, const PackOptions& o) {
  fs::path dir = o.single_file_dir ? *o.single_file_dir : file.parent_path() / o.name;
  fs::path target = dir / file.filename();
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    MS_ASSIGN_OR_RETURN(auto entries, detail::walk_release_dir(dir));
    bool only_this = entries.empty() ||
                     (entries.size() == 1 && entries[0].path == file.filename().string() &&
                      fs::equivalent(target, file, ec));
    if (!only_this)
      return Error::invalid_argument(dir.string() + ": exists and holds other files; move " +
                                     file.filename().string() + " into a directory of its own and pack that");
    if (!entries.empty()) return dir;
  } else {
    fs::create_directories(dir, ec);
    if (ec) return Error::io(dir.string() + ": cannot create: " + ec.message());
  }
  if (::link(file.c_str(), target.c_str()) != 0) {
    fs::copy_file(file, target, ec);
    if (ec) return Error::io(target.string() + ": cannot link or copy " + file.string() + ": " + ec.message());
  }
  return dir;
}

std::vector<Sha256Digest> leaves_of(std::string_view bytes) {
  std::vector<Sha256Digest> out;
  for (size_t off = 0; off < bytes.size(); off += kMerkleBlockSize)
    out.push_back(sha256(bytes.data() + off, std::min<size_t>(kMerkleBlockSize, bytes.size() - off)));
  return out;
}

}  // namespace

uint64_t default_piece_size(uint64_t total) {
  if (total <= (4ull << 30)) return 4ull << 20;
  if (total <= (16ull << 30)) return 8ull << 20;
  return 16ull << 20;
}

Result<PackResult> pack_release(const fs::path& input, const PackOptions& o) {
  if (!o.key) return Error::invalid_argument("pack: no secret key given");
  MS_TRY(validate_release_name(o.name));
  if (o.piece_size && (!is_pow2(o.piece_size) || o.piece_size < kMerkleBlockSize || o.piece_size > (256u << 20)))
    return Error::invalid_argument("piece size " + std::to_string(o.piece_size) +
                                   ": must be a power of two from 16 KiB to 256 MiB");
  for (const auto& u : o.trackers)
    if (u.empty() || u.find_first_of(" \t\r\n") != std::string::npos)
      return Error::invalid_argument("tracker URL \"" + u + "\" is not valid");
  for (const auto& u : o.web_seeds)
    if (u.empty() || u.find_first_of(" \t\r\n") != std::string::npos)
      return Error::invalid_argument("web seed URL \"" + u + "\" is not valid");

  std::error_code ec;
  fs::file_status st = fs::symlink_status(input, ec);
  if (ec || !fs::exists(st)) return Error::io(input.string() + ": does not exist");
  fs::path dir;
  if (fs::is_regular_file(st)) {
    MS_ASSIGN_OR_RETURN(dir, single_file_release_dir(input, o));
  } else if (fs::is_directory(st)) {
    dir = input;
  } else {
    return Error::invalid_argument(input.string() + ": not a directory or regular file");
  }

  MS_ASSIGN_OR_RETURN(auto entries, detail::walk_release_dir(dir));
  Manifest m;
  m.name = o.name;
  m.version = o.version;
  m.created = format_utc_time(creation_time(o));
  if (o.expires) m.expires = format_utc_time(*o.expires);
  PublicKey pub = o.key->public_key();
  m.publisher = {key_id_hex(pub.id), pub.to_base64()};

  HashPlan plan;
  struct Slots {
    size_t whole;
    size_t first_chunk;
  };
  std::vector<Slots> slots;
  std::vector<FileStamp> stamps;
  for (const auto& e : entries) {
    fs::path full = dir / e.path;
    if (e.type != detail::TreeEntry::Type::regular)
      return Error::invalid_argument(full.string() + ": symlinks and special files cannot be packed");
    if (auto v = validate_release_path(e.path); !v.ok())
      return Error::invalid_argument(full.string() + ": " + v.error().message);
    // Before the file is read: a write during the hash then leaves it unrecorded.
    if (auto stamp = stamp_file(dir, e.path); stamp.ok()) stamps.push_back(std::move(*stamp));
    MS_ASSIGN_OR_RETURN(detail::ModelLayout layout, detail::read_layout(full, e.size));
    MS_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, detail::plan_chunks(layout, e.size, full.string()));
    uint32_t fi = static_cast<uint32_t>(plan.files.size());
    plan.files.push_back(full);
    plan.expected_sizes.push_back(e.size);
    plan.merkle.push_back(e.size > 0);
    Slots s{plan.ranges.size(), plan.ranges.size() + 1};
    plan.ranges.push_back({fi, 0, e.size});
    for (const auto& c : chunks) plan.ranges.push_back({fi, c.offset, c.size});
    slots.push_back(s);
    ManifestFile f;
    f.path = e.path;
    f.size = e.size;
    f.format = layout.format;
    f.chunks = std::move(chunks);
    m.files.push_back(std::move(f));
  }
  if (m.files.empty()) return Error::invalid_argument(dir.string() + ": nothing to pack (no files)");

  HashOptions ho;
  ho.threads = o.threads;
  ho.progress = o.progress;
  ho.cancel = o.cancel;
  MS_ASSIGN_OR_RETURN(HashResults hr, hash_plan(plan, ho));

  std::vector<detail::TorrentInputFile> tfiles;
  uint64_t bytes = 0;
  for (size_t i = 0; i < m.files.size(); ++i) {
    ManifestFile& f = m.files[i];
    f.sha256 = hr.range_digests[slots[i].whole];
    for (size_t c = 0; c < f.chunks.size(); ++c) f.chunks[c].sha256 = hr.range_digests[slots[i].first_chunk + c];
    if (f.size > 0) f.pieces_root = merkle_root(hr.leaves[i]);
    bytes += f.size;
    tfiles.push_back({f.path, f.size, std::move(hr.leaves[i])});
  }
  if (auto v = validate_manifest(m); !v.ok()) return Error::internal("pack built an invalid manifest: " + v.error().message);

  std::string manifest_json = serialize_manifest(m);
  std::string comment = "modelswarm release " + m.name + " version " + std::to_string(m.version) +
                        " created " + m.created;
  MS_ASSIGN_OR_RETURN(Signature sig, sign_message(manifest_json, *o.key, comment,
                                                  "signature from modelswarm secret key " + m.publisher.key_id));
  std::string sig_text = format_signature(sig);

  detail::TorrentSpec spec;
  spec.name = m.name;
  spec.piece_size = o.piece_size ? o.piece_size : default_piece_size(bytes);
  spec.hybrid = o.hybrid;
  spec.trackers = o.trackers;
  spec.web_seeds = o.web_seeds;
  spec.release_dir = dir;
  tfiles.push_back({std::string(kManifestPath), manifest_json.size(), leaves_of(manifest_json)});
  tfiles.push_back({std::string(kSignaturePath), sig_text.size(), leaves_of(sig_text)});

  // A hybrid torrent re-reads the manifest files from disk: write them first.
  fs::path meta = dir / kReleaseMetaDir;
  fs::create_directories(meta, ec);
  if (ec) return Error::io(meta.string() + ": cannot create: " + ec.message());
  MS_TRY(write_file_atomic(dir / kManifestPath, manifest_json, 0644));
  MS_TRY(write_file_atomic(dir / kSignaturePath, sig_text, 0644));
  MS_ASSIGN_OR_RETURN(detail::BuiltTorrent bt, detail::build_torrent(spec, std::move(tfiles)));
  MS_TRY(write_file_atomic(dir / kTorrentPath, std::string_view(bt.bytes.data(), bt.bytes.size()), 0644));

  PackResult r;
  r.release_dir = dir;
  r.manifest = std::move(m);
  r.magnet = bt.magnet;
  r.info_hash_v2 = bt.info_hash_v2;
  r.info_hash_v1 = bt.info_hash_v1;
  r.piece_size = spec.piece_size;
  r.bytes_hashed = bytes;
  r.stamps = std::move(stamps);
  return r;
}

}  // namespace modelswarm
