#include "source.hpp"

#include <libtorrent/load_torrent.hpp>
#include <libtorrent/magnet_uri.hpp>

#include <filesystem>

#include "http_get.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/swarm.hpp"
#include "session_impl.hpp"

namespace modelswarm::swarm {

Result<lt::add_torrent_params> load_torrent(const std::string& path) {
  std::error_code fec;
  if (!std::filesystem::is_regular_file(path, fec))
    return Error::io(path + ": no such torrent file");
  auto size = std::filesystem::file_size(path, fec);
  if (fec || size > (64u << 20)) return Error::format(path + ": torrent file too large or unreadable");
  try {
    lt::load_torrent_limits limits;
    return lt::load_torrent_file(path, limits);
  } catch (const std::exception& e) {
    return Error::format(path + ": not a valid torrent file: " + e.what());
  }
}

// URL of a release directory: its .modelswarm/release.torrent, and the URL as a web seed
// (BEP 19 appends NAME/PATH to a URL ending in '/', so the seed URL is the parent directory).
Result<lt::add_torrent_params> params_from_release_url(std::string url) {
  if (url.back() != '/') url += '/';
  MS_ASSIGN_OR_RETURN(std::string bytes, http_get(url + std::string(kTorrentPath), 64u << 20));
  lt::add_torrent_params atp;
  try {
    atp = lt::load_torrent_buffer({bytes.data(), static_cast<std::ptrdiff_t>(bytes.size())});
  } catch (const std::exception& e) {
    return Error::format(url + std::string(kTorrentPath) + ": not a valid torrent file: " + e.what());
  }
  std::string dir = url.substr(0, url.size() - 1);
  auto cut = dir.rfind('/');
  if (dir.substr(cut + 1) != atp.ti->name())
    return Error::invalid_argument(url + ": the directory must be named after the release ('" +
                                   atp.ti->name() + "') to serve as a web seed");
  atp.url_seeds.push_back(dir.substr(0, cut + 1));
  return atp;
}

Result<lt::add_torrent_params> params_from_source(const std::string& source) {
  if (source.rfind("magnet:", 0) == 0) {
    lt::error_code ec;
    lt::add_torrent_params atp = lt::parse_magnet_uri(source, ec);
    if (ec) return Error::invalid_argument("magnet link: " + ec.message());
    return atp;
  }
  if (source.rfind("http://", 0) == 0) return params_from_release_url(source);
  if (source.rfind("https://", 0) == 0)
    return Error::unsupported(source + ": https release URLs are not supported; download "
                                       ".modelswarm/release.torrent and pass the file");
  return load_torrent(source);
}

Result<std::string> source_info_hash(const std::string& source) {
  MS_ASSIGN_OR_RETURN(lt::add_torrent_params atp, params_from_source(source));
  return info_hash_hex(atp.ti ? atp.ti->info_hashes() : atp.info_hashes);
}

}  // namespace modelswarm::swarm
