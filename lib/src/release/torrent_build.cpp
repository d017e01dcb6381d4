#include "release/torrent_build.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <libtorrent/create_torrent.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/torrent_info.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "crypto/merkle.hpp"
#include "util/file_io.hpp"

namespace modelswarm::detail {

namespace {

std::string hex_of(const char* data, size_t n) {
  return to_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), n));
}

// SHA-1 of every v1 piece (hybrid torrents only): reads the files again through libtorrent's
// own piece-to-file mapping, so pad files and alignment are exactly what it expects.
Status set_v1_hashes(libtorrent::create_torrent& ct, const std::filesystem::path& dir,
                     const std::string& name) {
  const libtorrent::file_storage& fs = ct.files();
  std::vector<char> buf(static_cast<size_t>(fs.piece_length()));
  std::map<int, file_io::Fd> fds;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> owner(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_MD_CTX* ctx = owner.get();
  for (libtorrent::piece_index_t p(0); p < fs.end_piece(); ++p) {
    int psize = fs.piece_size(p);
    auto slices = fs.map_block(p, 0, psize);
    size_t pos = 0;
    for (const auto& s : slices) {
      char* dst = buf.data() + pos;
      if (fs.pad_file_at(s.file_index)) {
        std::memset(dst, 0, static_cast<size_t>(s.size));
      } else {
        int idx = static_cast<int>(s.file_index);
        if (!fds.count(idx)) {
          std::string rel = fs.file_path(s.file_index).substr(name.size() + 1);
          MS_ASSIGN_OR_RETURN(fds[idx], file_io::open_read(dir / rel));
        }
        const std::string what = fs.file_path(s.file_index);
        MS_ASSIGN_OR_RETURN(size_t got,
                            file_io::pread_upto(fds[idx].get(),
                                                std::span(reinterpret_cast<uint8_t*>(dst), static_cast<size_t>(s.size)),
                                                static_cast<uint64_t>(s.offset), what));
        // Shorter than the size the torrent was laid out with: it changed under the packer.
        if (got < static_cast<size_t>(s.size)) return Error::io(what + ": short read while hashing v1 pieces");
      }
      pos += static_cast<size_t>(s.size);
    }
    unsigned char h[20];
    unsigned len = 0;
    EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
    EVP_DigestUpdate(ctx, buf.data(), pos);
    EVP_DigestFinal_ex(ctx, h, &len);
    ct.set_hash(p, libtorrent::sha1_hash(reinterpret_cast<const char*>(h)));
  }
  return Status::success();
}

}  // namespace

Result<BuiltTorrent> build_torrent(const TorrentSpec& spec, std::vector<TorrentInputFile> files) {
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  try {
    libtorrent::file_storage fs;
    for (const auto& f : files) fs.add_file(spec.name + "/" + f.path, static_cast<int64_t>(f.size));
    libtorrent::create_flags_t flags = spec.hybrid ? libtorrent::create_flags_t{} : libtorrent::create_torrent::v2_only;
    libtorrent::create_torrent ct(fs, static_cast<int>(spec.piece_size), flags);
    ct.set_creation_date(0);  // deterministic: no creation date
    for (size_t i = 0; i < spec.trackers.size(); ++i) ct.add_tracker(spec.trackers[i], static_cast<int>(i));
    for (const auto& w : spec.web_seeds) ct.add_url_seed(w);

    // The constructor may reorder files (BEP 52 canonical order): look indices up by path.
    std::map<std::string, const TorrentInputFile*> by_path;
    for (const auto& f : files) by_path[spec.name + "/" + f.path] = &f;
    const libtorrent::file_storage& cfs = ct.files();
    for (libtorrent::file_index_t i(0); i < cfs.end_file(); ++i) {
      if (cfs.pad_file_at(i)) continue;
      auto it = by_path.find(cfs.file_path(i));
      if (it == by_path.end()) return Error::internal("torrent: lost file " + cfs.file_path(i));
      const TorrentInputFile& f = *it->second;
      if (f.size == 0) continue;
      auto layer = merkle_piece_layer(f.leaves, spec.piece_size);
      for (size_t p = 0; p < layer.size(); ++p)
        ct.set_hash2(i, static_cast<int>(p),
                     libtorrent::sha256_hash(reinterpret_cast<const char*>(layer[p].data())));
    }
    if (spec.hybrid) MS_TRY(set_v1_hashes(ct, spec.release_dir, spec.name));

    BuiltTorrent out;
    out.bytes = ct.generate_buf();
    libtorrent::error_code ec;
    libtorrent::torrent_info ti(libtorrent::span<const char>(out.bytes.data(), static_cast<long>(out.bytes.size())),
                                ec, libtorrent::from_span);
    if (ec) return Error::internal("torrent: generated torrent does not load: " + ec.message());
    out.magnet = libtorrent::make_magnet_uri(ti);
    const auto& ih = ti.info_hashes();
    if (ih.has_v2()) out.info_hash_v2 = hex_of(ih.v2.data(), ih.v2.size());
    if (ih.has_v1()) out.info_hash_v1 = hex_of(ih.v1.data(), ih.v1.size());
    return out;
  } catch (const std::exception& e) {
    return Error::internal(std::string("torrent: ") + e.what());
  }
}

}  // namespace modelswarm::detail
