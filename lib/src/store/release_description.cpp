// Loading a release's manifest (and its torrent's piece size) without checking the signature.
#include "modelswarm/diff.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/release.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

// The torrent is optional: a release copied without it still diffs, only without the
// piece-granular estimate.
uint64_t torrent_piece_size(const fs::path& torrent) {
  std::error_code ec;
  if (!fs::is_regular_file(torrent, ec)) return 0;
  auto t = read_release_torrent(torrent);
  return t.ok() ? t->piece_size : 0;
}

}  // namespace

Result<LoadedRelease> load_release_description(const fs::path& dir_or_manifest) {
  std::error_code ec;
  LoadedRelease out;
  fs::path manifest_path = dir_or_manifest;
  if (fs::is_directory(dir_or_manifest, ec)) {
    out.dir = dir_or_manifest;
    manifest_path = dir_or_manifest / std::string(kManifestPath);
    if (!fs::exists(manifest_path, ec))
      return Error::io(dir_or_manifest.string() + ": not a release directory (no " +
                       std::string(kManifestPath) + ")");
    out.piece_size = torrent_piece_size(dir_or_manifest / std::string(kTorrentPath));
  } else if (!fs::exists(dir_or_manifest, ec)) {
    return Error::io(dir_or_manifest.string() + ": no such file or directory");
  }
  MS_ASSIGN_OR_RETURN(std::string text, read_small_file(manifest_path, kMaxManifestBytes));
  MS_ASSIGN_OR_RETURN(out.manifest, parse_manifest(text, manifest_path.string()));
  return out;
}

}  // namespace modelswarm
