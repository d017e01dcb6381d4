// pack_release: one parallel pass over the model files gives every chunk's SHA-256, every
// file's SHA-256 and every file's v2 merkle leaves; the manifest, its signature and the torrent
// are all built from that pass.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "crypto/hasher.hpp"
#include "crypto/merkle.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/trust.hpp"
#include "release/layout.hpp"
#include "release/torrent_build.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

// Explicit date, then SOURCE_DATE_EPOCH, then the date of the manifest already in the release
// for this very (key, name, version): re-packing unchanged content must not make a second,
// different signed manifest of one version.
std::string creation_time(const PackOptions& o, const fs::path& dir, const std::string& key_id) {
  if (o.created) return format_utc_time(*o.created);
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
    char* end = nullptr;
    long long v = std::strtoll(sde, &end, 10);
    if (end && *end == 0 && v >= 0) return format_utc_time(v);
  }
  if (auto text = read_small_file(dir / kManifestPath, kMaxManifestBytes); text.ok())
    if (auto old = parse_manifest(*text); old.ok() && old->name == o.name && old->version == o.version &&
                                          old->publisher.key_id == key_id)
      return old->created;
  return format_utc_time(static_cast<int64_t>(std::time(nullptr)));
}

// Before any byte is hashed: the checks that need only the options and what this machine
// remembers this key signing.
Status check_publisher_history(const PackOptions& o, const std::string& key_id) {
  int64_t now = o.now ? *o.now : static_cast<int64_t>(std::time(nullptr));
  if (o.expires && *o.expires <= now)
    return Error::invalid_argument("--expires " + format_utc_time(*o.expires) +
                                   " is in the past; the release would be refused everywhere");
  MS_ASSIGN_OR_RETURN(std::optional<uint64_t> highest,
                      highest_recorded_version(key_id, o.name, Ledger::signed_here));
  if (highest && o.version < *highest && !o.allow_downgrade)
    return Error::invalid_argument(o.name + " version " + std::to_string(o.version) + ": key " + key_id +
                                   " already signed version " + std::to_string(*highest) +
                                   " here, and fetchers refuse going back (--allow-downgrade to sign it anyway)");
  return Status::success();
}

// What single_file_release_dir made, so that a failed pack leaves nothing behind.
struct MadeForFile {
  fs::path dir, file;
  bool made_dir = false, made_file = false;
  void undo() const {
    std::error_code ec;
    if (made_file) fs::remove(file, ec);
    if (made_dir) fs::remove_all(dir, ec);
  }
};

// A single file is packed as a release directory holding just that file (a hard link, so no
// bytes are copied; a copy when the file system refuses links).
Result<fs::path> single_file_release_dir(const fs::path& file, const PackOptions& o, MadeForFile& made) {
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
    made.dir = dir;
    made.made_dir = true;
  }
  if (::linkat(AT_FDCWD, file.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    fs::copy_file(file, target, ec);
    if (ec) return Error::io(target.string() + ": cannot link or copy " + file.string() + ": " + ec.message());
  }
  made.file = target;
  made.made_file = true;
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

namespace {
Result<PackResult> pack_directory(const fs::path& dir, const PackOptions& o, const std::string& key_id);
}  // namespace

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
  PublicKey pub = o.key->public_key();
  const std::string key_id = key_id_hex(pub.id);
  MS_TRY(check_publisher_history(o, key_id));
  // A single model file behind a link (Hugging Face's cache is made of them) is packed as the
  // file it points to, under the link's name.
  if (fs::is_symlink(st)) {
    fs::file_status target = fs::status(input, ec);
    if (!ec && fs::is_regular_file(target)) st = target;
  }
  if (fs::is_directory(st)) return pack_directory(input, o, key_id);
  if (!fs::is_regular_file(st)) return Error::unsupported(input.string() + ": not a directory or regular file");
  MadeForFile made;
  auto dir = single_file_release_dir(input, o, made);
  if (!dir.ok()) {
    made.undo();
    return dir.error();
  }
  auto r = pack_directory(*dir, o, key_id);
  if (!r.ok()) made.undo();
  return r;
}

namespace {

// What hashing a release must compute: per file its whole-file range, then its chunks' ranges.
struct PackPlan {
  struct Slots {
    size_t whole;
    size_t first_chunk;
  };
  HashPlan hashes;
  std::vector<Slots> slots;  // per manifest file
  std::vector<FileStamp> stamps;
};

// Checks every entry is a regular file at a valid path, chunks it by its model layout into `m`
// (digests still zero) and lists the ranges to hash.
Result<PackPlan> plan_files(const fs::path& dir, const std::vector<detail::TreeEntry>& entries, Manifest& m) {
  PackPlan p;
  for (const auto& e : entries) {
    fs::path full = dir / e.path;
    if (e.type != detail::TreeEntry::Type::regular)
      return Error::unsupported(full.string() + (e.type == detail::TreeEntry::Type::symlink
                                                     ? ": a symbolic link; a release holds regular files only (copy it in with cp -L)"
                                                     : ": not a regular file; a release holds regular files only"));
    if (auto v = validate_release_path(e.path); !v.ok())
      return Error::invalid_argument(full.string() + ": " + v.error().message);
    // Before the file is read: a write during the hash then leaves it unrecorded.
    if (auto stamp = stamp_file(dir, e.path); stamp.ok()) p.stamps.push_back(std::move(*stamp));
    MS_ASSIGN_OR_RETURN(detail::ModelLayout layout, detail::read_layout(full, e.size));
    MS_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, detail::plan_chunks(layout, e.size, full.string()));
    uint32_t fi = static_cast<uint32_t>(p.hashes.files.size());
    p.hashes.files.push_back(full);
    p.hashes.expected_sizes.push_back(e.size);
    p.hashes.merkle.push_back(e.size > 0);
    p.slots.push_back({p.hashes.ranges.size(), p.hashes.ranges.size() + 1});
    p.hashes.ranges.push_back({fi, 0, e.size});
    for (const auto& c : chunks) p.hashes.ranges.push_back({fi, c.offset, c.size});
    ManifestFile f;
    f.path = e.path;
    f.size = e.size;
    f.format = layout.format;
    f.chunks = std::move(chunks);
    m.files.push_back(std::move(f));
  }
  if (m.files.empty()) return Error::invalid_argument(dir.string() + ": nothing to pack (no files)");
  return p;
}

// Puts the digests into the manifest's files; returns the torrent's view of them (the leaves
// move there) and adds the files' bytes to `bytes`.
std::vector<detail::TorrentInputFile> fill_digests(Manifest& m, const PackPlan& p, HashResults& hr, uint64_t& bytes) {
  std::vector<detail::TorrentInputFile> tfiles;
  for (size_t i = 0; i < m.files.size(); ++i) {
    ManifestFile& f = m.files[i];
    f.sha256 = hr.range_digests[p.slots[i].whole];
    for (size_t c = 0; c < f.chunks.size(); ++c) f.chunks[c].sha256 = hr.range_digests[p.slots[i].first_chunk + c];
    if (f.size > 0) f.pieces_root = merkle_root(hr.leaves[i]);
    bytes += f.size;
    tfiles.push_back({f.path, f.size, std::move(hr.leaves[i])});
  }
  return tfiles;
}

struct SignedManifest {
  std::string json;
  std::string signature;
  Sha256Digest digest;
};

// Serialises and signs `m`, unless this key already signed another manifest for this version
// (fetchers that saw that one would refuse this one) and --resign was not given.
Result<SignedManifest> sign_manifest(const Manifest& m, const PackOptions& o, const std::string& key_id) {
  SignedManifest s;
  s.json = serialize_manifest(m);
  s.digest = sha256(s.json.data(), s.json.size());
  MS_ASSIGN_OR_RETURN(std::optional<Sha256Digest> signed_before,
                      seen_manifest_digest(key_id, m.name, m.version, Ledger::signed_here));
  if (signed_before && *signed_before != s.digest && !o.resign)
    return Error::invalid_argument(m.name + " version " + std::to_string(m.version) + ": key " + key_id +
                                   " already signed a different manifest for this version; fetchers that saw it "
                                   "would refuse this one. Pack it as a new --version (or --resign to replace it)");
  std::string comment = "modelswarm release " + m.name + " version " + std::to_string(m.version) +
                        " created " + m.created;
  MS_ASSIGN_OR_RETURN(Signature sig, sign_message(s.json, *o.key, comment,
                                                  "signature from modelswarm secret key " + m.publisher.key_id));
  s.signature = format_signature(sig);
  return s;
}

// Writes manifest, signature and torrent under dir/.modelswarm, then records the signing.
Result<detail::BuiltTorrent> write_release_meta(const fs::path& dir, const Manifest& m, const SignedManifest& s,
                                                const detail::TorrentSpec& spec,
                                                std::vector<detail::TorrentInputFile> tfiles,
                                                const PackOptions& o, const std::string& key_id) {
  tfiles.push_back({std::string(kManifestPath), s.json.size(), leaves_of(s.json)});
  tfiles.push_back({std::string(kSignaturePath), s.signature.size(), leaves_of(s.signature)});
  // A hybrid torrent re-reads the manifest files from disk: write them first.
  fs::path meta = dir / kReleaseMetaDir;
  std::error_code ec;
  fs::create_directories(meta, ec);
  if (ec) return Error::io(meta.string() + ": cannot create: " + ec.message());
  MS_TRY(write_file_atomic(dir / kManifestPath, s.json, 0644));
  MS_TRY(write_file_atomic(dir / kSignaturePath, s.signature, 0644));
  MS_ASSIGN_OR_RETURN(detail::BuiltTorrent bt, detail::build_torrent(spec, std::move(tfiles)));
  MS_TRY(write_file_atomic(dir / kTorrentPath, std::string_view(bt.bytes.data(), bt.bytes.size()), 0644));
  MS_TRY(record_seen_manifest(key_id, m.name, m.version, s.digest,
                              o.resign ? SeenManifest::replace : SeenManifest::keep_first, Ledger::signed_here));
  return bt;
}

Result<PackResult> pack_directory(const fs::path& dir, const PackOptions& o, const std::string& key_id) {
  MS_ASSIGN_OR_RETURN(auto entries, detail::walk_release_dir(dir));
  Manifest m;
  m.name = o.name;
  m.version = o.version;
  m.created = creation_time(o, dir, key_id);
  if (o.expires) m.expires = format_utc_time(*o.expires);
  m.publisher = {key_id, o.key->public_key().to_base64()};
  MS_ASSIGN_OR_RETURN(PackPlan plan, plan_files(dir, entries, m));

  HashOptions ho;
  ho.threads = o.threads;
  ho.progress = o.progress;
  ho.cancel = o.cancel;
  MS_ASSIGN_OR_RETURN(HashResults hr, hash_plan(plan.hashes, ho));
  uint64_t bytes = 0;
  std::vector<detail::TorrentInputFile> tfiles = fill_digests(m, plan, hr, bytes);
  if (auto v = validate_manifest(m); !v.ok()) return Error::internal("pack built an invalid manifest: " + v.error().message);
  MS_ASSIGN_OR_RETURN(SignedManifest signed_manifest, sign_manifest(m, o, key_id));

  detail::TorrentSpec spec;
  spec.name = m.name;
  spec.piece_size = o.piece_size ? o.piece_size : default_piece_size(bytes);
  spec.hybrid = o.hybrid;
  spec.trackers = o.trackers;
  spec.web_seeds = o.web_seeds;
  spec.release_dir = dir;
  MS_ASSIGN_OR_RETURN(detail::BuiltTorrent bt,
                      write_release_meta(dir, m, signed_manifest, spec, std::move(tfiles), o, key_id));

  PackResult r;
  r.release_dir = dir;
  r.manifest = std::move(m);
  r.magnet = bt.magnet;
  r.info_hash_v2 = bt.info_hash_v2;
  r.info_hash_v1 = bt.info_hash_v1;
  r.piece_size = spec.piece_size;
  r.bytes_hashed = bytes;
  r.stamps = std::move(plan.stamps);
  return r;
}

}  // namespace

}  // namespace modelswarm
