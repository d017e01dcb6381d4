#include <libtorrent/torrent_info.hpp>

#include <map>

#include "modelswarm/release.hpp"

namespace modelswarm {

Status check_torrent_matches_manifest(const libtorrent::torrent_info& ti, const Manifest& m) {
  if (!ti.v2()) return Error::format("torrent for " + m.name + " has no BitTorrent v2 metadata");
  const libtorrent::file_storage& fs = ti.files();
  std::map<std::string, libtorrent::file_index_t> in_torrent;
  const std::string prefix = m.name + "/";
  for (libtorrent::file_index_t i(0); i < fs.end_file(); ++i) {
    if (fs.pad_file_at(i)) continue;
    std::string p = fs.file_path(i);
    if (p.compare(0, prefix.size(), prefix) != 0)
      return Error::content("torrent file \"" + p + "\" is not under the release directory \"" + m.name + "\"");
    std::string rel = p.substr(prefix.size());
    if (!in_torrent.emplace(rel, i).second) return Error::content("torrent lists \"" + rel + "\" twice");
  }
  size_t expected = m.files.size() + 2;
  for (auto meta : {kManifestPath, kSignaturePath})
    if (!in_torrent.count(std::string(meta)))
      return Error::content("torrent does not carry " + std::string(meta));
  for (const auto& f : m.files) {
    auto it = in_torrent.find(f.path);
    if (it == in_torrent.end()) return Error::content("torrent lacks the signed file " + f.path);
    if (static_cast<uint64_t>(fs.file_size(it->second)) != f.size)
      return Error::content("torrent size of " + f.path + " differs from the signed manifest");
    if (f.size > 0) {
      libtorrent::sha256_hash root = fs.root(it->second);
      if (!f.pieces_root || std::memcmp(root.data(), f.pieces_root->data(), 32) != 0)
        return Error::content("torrent pieces root of " + f.path + " differs from the signed manifest");
    }
  }
  if (in_torrent.size() != expected) {
    for (const auto& [rel, i] : in_torrent)
      if (rel != kManifestPath && rel != kSignaturePath && !m.find_file(rel))
        return Error::content("torrent lists \"" + rel + "\", which is not in the signed manifest");
  }
  return Status::success();
}

}  // namespace modelswarm
