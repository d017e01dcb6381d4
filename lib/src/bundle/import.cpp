// Import: trust first, then content, then names. Nothing is written before the signature
// verifies; every file is decoded into a staging directory inside the destination (same file
// system, so renames are atomic) and only renamed into place once every chunk matched.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "util/file_io.hpp"
#include "modelswarm/bundle.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/release.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

Status write_small(const fs::path& p, const std::string& data) {
  MS_ASSIGN_OR_RETURN(file_io::Fd fd, file_io::create_exclusive(p));
  MS_TRY(file_io::pwrite_full(fd.get(), std::span<const uint8_t>(
                                    reinterpret_cast<const uint8_t*>(data.data()), data.size()),
                                0, p.string()));
  return file_io::sync_file(fd.get(), p.string());
}

// rename(2) that never replaces an existing file: a file that appeared under a final name since
// we checked is an error, not something to overwrite.
Status rename_no_replace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno == EEXIST) return Error::io(to.string() + ": already exists");
  if (errno != EINVAL && errno != ENOSYS)
    return Error::io(to.string() + ": cannot rename into place: " + file_io::errno_text());
  std::error_code ec;
  if (fs::exists(fs::symlink_status(to, ec))) return Error::io(to.string() + ": already exists");
  if (::rename(from.c_str(), to.c_str()) != 0)
    return Error::io(to.string() + ": cannot rename into place: " + file_io::errno_text());
  return {};
}

// Removes what it is told about unless disarmed: the staging directory, final files renamed
// before a later failure, and the destination directory when import created it.
struct Cleanup {
  fs::path staging;
  std::vector<fs::path> placed;
  std::vector<fs::path> created_dirs;  // deepest last
  bool armed = true;
  ~Cleanup() {
    std::error_code ec;
    if (!staging.empty()) fs::remove_all(staging, ec);
    if (!armed) return;
    for (const auto& p : placed) fs::remove(p, ec);
    for (auto it = created_dirs.rbegin(); it != created_dirs.rend(); ++it) fs::remove(*it, ec);  // only if empty
  }
};

// Creates `dir` and missing parents, remembering which ones it made.
Status make_dirs(const fs::path& dir, std::vector<fs::path>& created) {
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (!fs::create_directory(*it, ec) && ec)
      return Error::io(it->string() + ": cannot create directory: " + ec.message());
    created.push_back(*it);
  }
  if (!fs::is_directory(dir, ec)) return Error::io(dir.string() + ": not a directory");
  return {};
}

}  // namespace

Result<ImportResult> import_release_bundle(const fs::path& bundle, const fs::path& parent_dir,
                                           const ImportOptions& options) {
  if (!options.trust) return Error::invalid_argument("import: no trust options given");
  MS_ASSIGN_OR_RETURN(BundleReader reader, BundleReader::open(bundle));
  const BundleSections& s = reader.sections();
  std::string name = bundle.string();
  auto verified = load_and_verify_manifest(s.manifest, s.signature, *options.trust);
  if (!verified.ok()) return Error{verified.error().code, name + ": " + verified.error().message};
  const Manifest& m = verified->manifest;
  const fs::path dest_dir = parent_dir / m.name;  // a validated release name: one path component
  if (!s.torrent.empty()) {
    Status st = check_carried_torrent(s.torrent, m, s.manifest, s.signature);
    if (!st.ok()) return Error{st.error().code, name + ": carried " + st.error().message};
  }

  std::vector<std::string> rels;
  for (const ManifestFile& f : m.files) rels.push_back(f.path);
  rels.emplace_back(kSignaturePath);
  if (!s.torrent.empty()) rels.emplace_back(kTorrentPath);
  rels.emplace_back(kManifestPath);  // last: its presence marks a complete release
  std::vector<fs::path> finals;
  for (const std::string& rel : rels) finals.push_back(dest_dir / rel);
  MS_TRY(check_release_destination(dest_dir));
  std::error_code ec;

  Cleanup cleanup;
  MS_TRY(make_dirs(dest_dir, cleanup.created_dirs));
  // A fresh, unpredictable name: never reuse (or delete) a directory that is already there.
  fs::path staging;
  std::random_device rd;
  for (int attempt = 0; attempt < 16 && staging.empty(); ++attempt) {
    fs::path p = dest_dir / (".modelswarm-import-" + std::to_string(::getpid()) + "-" +
                             std::to_string(rd() & 0xffffff));
    if (fs::create_directory(p, ec)) staging = p;
    else if (ec) return Error::io(p.string() + ": cannot create staging directory: " + ec.message());
  }
  if (staging.empty()) return Error::io(dest_dir.string() + ": cannot create a staging directory");
  cleanup.staging = staging;

  ImportResult result;
  MS_ASSIGN_OR_RETURN(result.stats, reader.extract(bundle_layout(m), staging, options.extract));
  fs::create_directories(staging / kReleaseMetaDir, ec);
  MS_TRY(write_small(staging / kSignaturePath, s.signature));
  if (!s.torrent.empty()) MS_TRY(write_small(staging / kTorrentPath, s.torrent));
  MS_TRY(write_small(staging / kManifestPath, s.manifest));

  for (size_t i = 0; i < rels.size(); ++i) {
    MS_TRY(make_dirs(finals[i].parent_path(), cleanup.created_dirs));
    MS_TRY(rename_no_replace(staging / rels[i], finals[i]));
    cleanup.placed.push_back(finals[i]);
  }
  std::vector<fs::path> dirs{dest_dir};
  for (const fs::path& p : finals) dirs.push_back(p.parent_path());
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  if (options.extract.sync)
    for (const fs::path& d : dirs) MS_TRY(file_io::sync_dir(d));

  if (options.record) MS_TRY(record_release_seen(*verified));
  cleanup.armed = false;
  result.release_dir = dest_dir;
  result.name = m.name;
  result.version = m.version;
  result.key_id = m.publisher.key_id;
  result.torrent = !s.torrent.empty();
  return result;
}

}  // namespace modelswarm
