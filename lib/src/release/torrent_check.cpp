// The checks that tie a torrent to a signed manifest, and what the rest of the library needs to
// know about a release's .torrent: libtorrent's torrent_info stays inside release and swarm.
#include <libtorrent/torrent_info.hpp>

#include <cstring>
#include <map>

#include "crypto/merkle.hpp"
#include "modelswarm/release.hpp"

namespace modelswarm {

namespace {

Sha256Digest pieces_root_of(std::string_view bytes) {
  std::vector<Sha256Digest> leaves;
  for (size_t off = 0; off < bytes.size(); off += kMerkleBlockSize)
    leaves.push_back(sha256(bytes.data() + off, std::min<size_t>(kMerkleBlockSize, bytes.size() - off)));
  return merkle_root(leaves);
}

// Root of a BitTorrent v2 tree from one of its piece layers: the layer is padded to a power of
// two with the root of an all-zero piece (a subtree of blocks_per_piece zero leaves).
Sha256Digest root_from_piece_layer(std::vector<Sha256Digest> layer, uint64_t blocks_per_piece) {
  Sha256Digest pad{};
  for (uint64_t n = 1; n < blocks_per_piece; n *= 2) {
    Sha256 h;
    h.update(pad.data(), pad.size());
    h.update(pad.data(), pad.size());
    pad = h.finish();
  }
  size_t width = 1;
  while (width < layer.size()) width *= 2;
  layer.resize(width, pad);
  Sha256 h;
  while (layer.size() > 1) {
    for (size_t i = 0; i < layer.size() / 2; ++i) {
      h.update(layer[2 * i].data(), 32);
      h.update(layer[2 * i + 1].data(), 32);
      layer[i] = h.finish();
    }
    layer.resize(layer.size() / 2);
  }
  return layer[0];
}

// libtorrent does not check piece layers against the file roots when it parses a torrent; a
// seeder started from a torrent with a wrong layer would serve pieces nobody can verify.
Status check_piece_layers(const libtorrent::torrent_info& ti) {
  const libtorrent::file_storage& files = ti.files();
  uint64_t piece = static_cast<uint64_t>(ti.piece_length());
  if (piece < kMerkleBlockSize || (piece & (piece - 1)) != 0)
    return Error::format("torrent has an invalid piece length");
  for (libtorrent::file_index_t i(0); i < files.end_file(); ++i) {
    uint64_t size = static_cast<uint64_t>(files.file_size(i));
    if (files.pad_file_at(i) || size <= piece) continue;
    auto layer = ti.piece_layer(i);
    uint64_t pieces = (size + piece - 1) / piece;
    if (static_cast<uint64_t>(layer.size()) != pieces * 32)
      return Error::content("torrent lacks the piece layer of " + files.file_path(i));
    std::vector<Sha256Digest> hashes(pieces);
    for (uint64_t k = 0; k < pieces; ++k) std::memcpy(hashes[k].data(), layer.data() + 32 * k, 32);
    if (std::memcmp(root_from_piece_layer(std::move(hashes), piece / kMerkleBlockSize).data(),
                    files.root(i).data(), 32) != 0)
      return Error::content("torrent has a wrong piece layer for " + files.file_path(i));
  }
  return {};
}

}  // namespace

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

Status check_carried_torrent(std::string_view torrent, const Manifest& m, std::string_view manifest_bytes,
                             std::string_view signature_bytes) {
  libtorrent::error_code ec;
  libtorrent::torrent_info ti(libtorrent::span<const char>(torrent.data(), static_cast<long>(torrent.size())),
                              ec, libtorrent::from_span);
  if (ec) return Error::format("torrent is malformed: " + ec.message());
  MS_TRY(check_torrent_matches_manifest(ti, m));
  MS_TRY(check_piece_layers(ti));
  const libtorrent::file_storage& files = ti.files();
  for (libtorrent::file_index_t i(0); i < files.end_file(); ++i) {
    std::string p = files.file_path(i);
    const std::string_view* bytes = p == m.name + "/" + std::string(kManifestPath)    ? &manifest_bytes
                                    : p == m.name + "/" + std::string(kSignaturePath) ? &signature_bytes
                                                                                      : nullptr;
    if (!bytes) continue;
    if (static_cast<uint64_t>(files.file_size(i)) != bytes->size() ||
        std::memcmp(files.root(i).data(), pieces_root_of(*bytes).data(), 32) != 0)
      return Error::content("torrent does not describe the release's " + p);
  }
  return {};
}

Result<TorrentSummary> read_release_torrent(const std::filesystem::path& torrent_file, const Manifest* must_match) {
  libtorrent::error_code ec;
  libtorrent::torrent_info ti(torrent_file.string(), ec);
  if (ec) return Error::format(torrent_file.string() + ": not a valid torrent: " + ec.message());
  if (must_match)
    if (Status st = check_torrent_matches_manifest(ti, *must_match); !st.ok())
      return Error{st.error().code, torrent_file.string() + ": " + st.error().message};
  TorrentSummary out;
  out.piece_size = static_cast<uint64_t>(ti.piece_length());
  if (ti.info_hashes().has_v2()) {
    auto h = ti.info_hashes().v2;
    out.info_hash_v2 = to_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(h.data()), h.size()));
  }
  for (const auto& t : ti.trackers()) out.trackers.push_back(t.url);
  for (const auto& w : ti.web_seeds())
    if (w.type == libtorrent::web_seed_entry::url_seed) out.web_seeds.push_back(w.url);
  return out;
}

}  // namespace modelswarm
