#include "source.hpp"

#include <libtorrent/load_torrent.hpp>
#include <libtorrent/magnet_uri.hpp>

#include <filesystem>

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

Result<lt::add_torrent_params> params_from_source(const std::string& source) {
  if (source.rfind("magnet:", 0) == 0) {
    lt::error_code ec;
    lt::add_torrent_params atp = lt::parse_magnet_uri(source, ec);
    if (ec) return Error::invalid_argument("magnet link: " + ec.message());
    return atp;
  }
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0)
    return Error::unsupported(source + ": release directory URLs are not supported yet; pass the "
                                       "release.torrent file (it carries the web seed)");
  return load_torrent(source);
}

Result<std::string> source_info_hash(const std::string& source) {
  MS_ASSIGN_OR_RETURN(lt::add_torrent_params atp, params_from_source(source));
  return info_hash_hex(atp.ti ? atp.ti->info_hashes() : atp.info_hashes);
}

}  // namespace modelswarm::swarm
