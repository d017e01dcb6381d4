// Offline verification: the signed manifest first (no file read), then every chunk.
#include <ctime>
#include <map>
#include <set>

#include "crypto/hasher.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/trust.hpp"
#include "release/layout.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

std::string_view content_problem_name(ContentProblem::Kind k) {
  switch (k) {
    case ContentProblem::Kind::missing: return "missing";
    case ContentProblem::Kind::extra: return "extra";
    case ContentProblem::Kind::size_mismatch: return "size_mismatch";
    case ContentProblem::Kind::chunk_mismatch: return "chunk_mismatch";
    case ContentProblem::Kind::file_hash_mismatch: return "file_hash_mismatch";
    case ContentProblem::Kind::unsafe_path: return "unsafe_path";
  }
  return "unknown";
}

Result<VerifiedManifest> load_and_verify_manifest(std::string_view manifest_bytes,
                                                  std::string_view signature_bytes,
                                                  const TrustOptions& trust) {
  auto sig = parse_signature(signature_bytes, "manifest signature");
  if (!sig.ok()) return Error::trust(sig.error().message);
  const PublicKey* key = nullptr;
  for (const auto& k : trust.trusted_keys)
    if (k.id == sig->key_id) key = &k;
  if (!key)
    return Error::trust("manifest is signed by key " + key_id_hex(sig->key_id) +
                        ", which is not trusted (pass --trust KEY, or run `modelswarm trust add KEY`)");
  MS_TRY(verify_signature(manifest_bytes, *sig, *key));
  MS_ASSIGN_OR_RETURN(Manifest m, parse_manifest(manifest_bytes, "manifest"));
  auto pub = parse_public_key(m.publisher.public_key);
  if (!pub.ok() || !(*pub == *key) || m.publisher.key_id != key_id_hex(key->id))
    return Error::trust("manifest names publisher " + m.publisher.key_id + " but was signed by key " +
                        key_id_hex(key->id));
  int64_t now = trust.now ? *trust.now : static_cast<int64_t>(std::time(nullptr));
  if (m.expires && now >= *parse_utc_time(*m.expires))
    return Error::trust("release " + m.name + " version " + std::to_string(m.version) + " expired on " +
                        *m.expires);
  MS_ASSIGN_OR_RETURN(std::optional<uint64_t> seen, highest_seen_version(m.publisher.key_id, m.name));
  if (seen && m.version < *seen && !trust.allow_downgrade)
    return Error::trust("rollback refused: release " + m.name + " version " + std::to_string(m.version) +
                        " is older than version " + std::to_string(*seen) +
                        " already seen from this publisher (--allow-downgrade to accept)");
  Sha256Digest digest = sha256(manifest_bytes.data(), manifest_bytes.size());
  MS_ASSIGN_OR_RETURN(std::optional<Sha256Digest> first,
                      seen_manifest_digest(m.publisher.key_id, m.name, m.version));
  if (first && *first != digest)
    return Error::trust(equivocation_message(m.publisher.key_id, m.name, m.version, *first, digest));
  VerifiedManifest v{std::move(m), std::move(*sig), *key, digest};
  return v;
}

Status record_release_seen(const VerifiedManifest& v) {
  const Manifest& m = v.manifest;
  MS_TRY(record_seen_manifest(m.publisher.key_id, m.name, m.version, v.manifest_sha256));
  return record_seen_version(m.publisher.key_id, m.name, m.version);
}

namespace {

using Kind = ContentProblem::Kind;

void add_problem(ContentReport& rep, Kind k, const std::string& path, const std::string& msg, std::string chunk = "") {
  rep.problems.push_back({k, path, std::move(chunk), path + ": " + msg});
}

// Anything on disk that the manifest does not list, and any link, is refused.
void report_unlisted(const std::vector<detail::TreeEntry>& entries, const Manifest& m, ContentReport& rep) {
  std::set<std::string> listed;
  for (const auto& f : m.files) listed.insert(f.path);
  for (const auto& e : entries) {
    if (e.type == detail::TreeEntry::Type::symlink)
      add_problem(rep, Kind::unsafe_path, e.path, "is a symbolic link (links could point outside the release)");
    else if (e.type == detail::TreeEntry::Type::other)
      add_problem(rep, Kind::unsafe_path, e.path, "is not a regular file");
    else if (!listed.count(e.path))
      add_problem(rep, Kind::extra, e.path, "is not part of the signed release");
  }
}

constexpr size_t kNotHashed = SIZE_MAX;

// A listed file that is on disk at its size, and where its digests land in the hash results.
struct Pending {
  const ManifestFile* file;
  std::vector<size_t> chunk_ranges;  // index into plan.ranges, or kNotHashed
  std::optional<size_t> whole_range;
  std::optional<FileStamp> stamp;
};

// The ranges to hash: every chunk not already verified (and whole files when asked) of the
// listed files that exist at their size. Missing, resized and escaping files are reported.
std::vector<Pending> plan_hashes(const fs::path& dir, const Manifest& m, const std::vector<detail::TreeEntry>& entries,
                                 const ChunkCheckOptions& o, HashPlan& plan, ContentReport& rep) {
  std::map<std::string, const detail::TreeEntry*> found;
  for (const auto& e : entries) found[e.path] = &e;
  std::vector<Pending> pending;
  for (size_t fidx = 0; fidx < m.files.size(); ++fidx) {
    const ManifestFile& f = m.files[fidx];
    // Defence in depth: the parser already refuses such paths.
    if (!validate_release_path(f.path).ok()) {
      add_problem(rep, Kind::unsafe_path, f.path, "escapes the release directory");
      continue;
    }
    auto it = found.find(f.path);
    if (it == found.end()) {
      add_problem(rep, Kind::missing, f.path, "is missing");
      continue;
    }
    if (it->second->type != detail::TreeEntry::Type::regular) continue;  // reported as unlisted
    if (it->second->size != f.size) {
      add_problem(rep, Kind::size_mismatch, f.path,
                  "size is " + std::to_string(it->second->size) + " bytes, the manifest says " + std::to_string(f.size));
      continue;
    }
    uint32_t fi = static_cast<uint32_t>(plan.files.size());
    plan.files.push_back(dir / f.path);
    plan.expected_sizes.push_back(f.size);
    Pending p{&f, {}, std::nullopt, std::nullopt};
    bool hashes_all = true;
    for (size_t c = 0; c < f.chunks.size(); ++c) {
      if (o.already_verified && o.already_verified(fidx, c)) {
        p.chunk_ranges.push_back(kNotHashed);
        hashes_all = false;
        continue;
      }
      p.chunk_ranges.push_back(plan.ranges.size());
      plan.ranges.push_back({fi, f.chunks[c].offset, f.chunks[c].size});
    }
    // Before the file is read: a write during the hash then leaves it unrecorded.
    if (hashes_all)
      if (auto stamp = stamp_file(dir, f.path); stamp.ok()) p.stamp = std::move(*stamp);
    if (o.check_file_sha256) {
      p.whole_range = plan.ranges.size();
      plan.ranges.push_back({fi, 0, f.size});
    }
    pending.push_back(std::move(p));
  }
  return pending;
}

// Compares the digests with the manifest; a file with no problem keeps its stamp.
void report_digests(const std::vector<Pending>& pending, const HashResults& hr, ContentReport& rep) {
  for (const auto& p : pending) {
    const ManifestFile& f = *p.file;
    rep.files_checked++;
    for (size_t c = 0; c < f.chunks.size(); ++c) {
      rep.chunks_checked++;
      if (p.chunk_ranges[c] == kNotHashed) continue;
      rep.bytes_hashed += f.chunks[c].size;
      if (hr.range_digests[p.chunk_ranges[c]] != f.chunks[c].sha256) {
        const Chunk& ch = f.chunks[c];
        std::string what = ch.name == kHeaderChunkName    ? "header differs from the signed manifest"
                           : ch.name == kWholeFileChunkName ? "content differs from the signed manifest"
                                                            : "tensor " + ch.name + " differs from the signed manifest";
        add_problem(rep, Kind::chunk_mismatch, f.path,
                    what + " (bytes " + std::to_string(ch.offset) + ".." + std::to_string(ch.offset + ch.size) + ")",
                    ch.name);
      }
    }
    if (p.whole_range && hr.range_digests[*p.whole_range] != f.sha256)
      add_problem(rep, Kind::file_hash_mismatch, f.path, "SHA-256 differs from the signed manifest");
    bool clean = true;
    for (const auto& pr : rep.problems) clean = clean && pr.path != f.path;
    if (clean && p.stamp) rep.stamps.push_back(*p.stamp);
  }
}

}  // namespace

Result<ContentReport> verify_chunks(const fs::path& dir, const Manifest& m, const ChunkCheckOptions& o) {
  ContentReport rep;
  MS_ASSIGN_OR_RETURN(auto entries, detail::walk_release_dir(dir));
  report_unlisted(entries, m, rep);
  HashPlan plan;
  std::vector<Pending> pending = plan_hashes(dir, m, entries, o, plan, rep);

  HashOptions ho;
  ho.threads = o.threads;
  ho.progress = o.progress;
  ho.cancel = o.cancel;
  // A file that changed size between the directory walk and the hash comes back from
  // hash_plan as a content error already; every error is passed on as it is.
  auto hr = hash_plan(plan, ho);
  if (!hr.ok()) return hr.error();
  report_digests(pending, *hr, rep);
  return rep;
}

Status check_release_destination(const fs::path& final_dir) {
  std::error_code ec;
  fs::file_status st = fs::symlink_status(final_dir, ec);
  if (!fs::exists(st)) return Status::success();
  if (fs::is_symlink(st))
    return Error::invalid_argument(final_dir.string() + ": is a symbolic link; remove it or choose another output directory");
  if (!fs::is_directory(st) || !fs::is_empty(final_dir, ec) || ec)
    return Error::invalid_argument(final_dir.string() +
                                   ": already exists and is not empty; remove it or choose another output directory");
  return Status::success();
}

Status check_regular_in_release(const fs::path& dir, const std::string& rel) {
  fs::path p = dir;
  fs::path r(rel);
  for (auto it = r.begin(); it != r.end(); ++it) {
    p /= *it;
    std::error_code ec;
    fs::file_status st = fs::symlink_status(p, ec);
    if (fs::is_symlink(st))
      return Error::content(p.string() + ": a symbolic link; a release's files must be regular files inside it");
    bool last = std::next(it) == r.end();
    if (!fs::exists(st)) return Error::content(p.string() + ": missing");
    if (last ? !fs::is_regular_file(st) : !fs::is_directory(st))
      return Error::content(p.string() + (last ? ": not a regular file" : ": not a directory"));
  }
  return Status::success();
}

Result<VerifyReport> verify_release(const fs::path& dir, const VerifyOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error::invalid_argument(dir.string() + ": not a directory");
  fs::path mpath = dir / kManifestPath, spath = dir / kSignaturePath;
  if (!fs::exists(fs::symlink_status(mpath, ec)))
    return Error::format(dir.string() + ": not a release (no " + std::string(kManifestPath) + ")");
  if (fs::is_symlink(fs::symlink_status(mpath, ec)) || fs::is_symlink(fs::symlink_status(spath, ec)) ||
      fs::is_symlink(fs::symlink_status(dir / kReleaseMetaDir, ec)))
    return Error::content(dir.string() + ": manifest files must not be symbolic links");
  MS_ASSIGN_OR_RETURN(std::string manifest, read_small_file(mpath, kMaxManifestBytes));
  if (!fs::exists(fs::symlink_status(spath, ec)))
    return Error::trust(spath.string() + ": missing; the release is unsigned");
  MS_ASSIGN_OR_RETURN(std::string sig, read_small_file(spath, kMaxSignatureBytes));
  VerifyReport rep;
  MS_ASSIGN_OR_RETURN(rep.verified, load_and_verify_manifest(manifest, sig, o.trust));
  MS_ASSIGN_OR_RETURN(rep.content, verify_chunks(dir, rep.verified.manifest, o.content));
  if (rep.ok() && o.record) MS_TRY(record_release_seen(rep.verified));
  return rep;
}

}  // namespace modelswarm
