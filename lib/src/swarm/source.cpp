#include "source.hpp"

#include <libtorrent/load_torrent.hpp>
#include <libtorrent/magnet_uri.hpp>

#include <filesystem>

#include "http_client.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/swarm.hpp"
#include "session_impl.hpp"

namespace modelswarm::swarm {

namespace {

constexpr size_t kMaxTorrentBytes = 64u << 20;

Result<lt::add_torrent_params> parse_torrent(const std::string& bytes, const std::string& origin) {
  try {
    lt::load_torrent_limits limits;
    return lt::load_torrent_buffer({bytes.data(), static_cast<std::ptrdiff_t>(bytes.size())}, limits);
  } catch (const std::exception& e) {
    return Error::format(origin + ": not a valid torrent file: " + e.what());
  }
}

Result<Source> source_from_file(const std::string& path) {
  std::error_code fec;
  if (!std::filesystem::is_regular_file(path, fec)) return Error::io(path + ": no such torrent file");
  auto bytes = read_small_file(path, kMaxTorrentBytes);
  if (!bytes.ok()) return Error::format(path + ": torrent file too large or unreadable");
  MS_ASSIGN_OR_RETURN(lt::add_torrent_params atp, parse_torrent(*bytes, path));
  return Source{std::move(atp), std::move(bytes).value()};
}

}  // namespace

Result<lt::add_torrent_params> load_torrent(const std::string& path) {
  MS_ASSIGN_OR_RETURN(Source src, source_from_file(path));
  return std::move(src.atp);
}

// URL of a release directory: its .modelswarm/release.torrent, and the URL as a web seed
// (BEP 19 appends NAME/PATH to a URL ending in '/', so the seed URL is the parent directory).
// After a redirect the directory the .torrent came from is the web seed, so libtorrent does not
// go through the redirect for every file.
Result<Source> params_from_release_url(std::string url, const HttpOptions& http,
                                       const std::atomic<bool>* stop) {
  if (url.back() != '/') url += '/';
  MS_ASSIGN_OR_RETURN(HttpResponse got,
                      http_get(url + std::string(kTorrentPath), http, kMaxTorrentBytes, stop));
  MS_ASSIGN_OR_RETURN(lt::add_torrent_params atp, parse_torrent(got.body, got.url));
  std::string dir = url.substr(0, url.size() - 1);
  const std::string suffix = "/" + std::string(kTorrentPath);
  if (got.url.size() > suffix.size() && got.url.ends_with(suffix))
    dir = got.url.substr(0, got.url.size() - suffix.size());
  auto cut = dir.rfind('/');
  if (dir.substr(cut + 1) != atp.ti->name())
    return Error::invalid_argument(dir + "/: the directory must be named after the release ('" +
                                   atp.ti->name() + "') to serve as a web seed");
  atp.url_seeds.push_back(dir.substr(0, cut + 1));
  return Source{std::move(atp), std::move(got.body)};
}

Result<Source> params_from_source(const std::string& source, const HttpOptions& http,
                                  const std::atomic<bool>* stop) {
  if (source.rfind("magnet:", 0) == 0) {
    lt::error_code ec;
    lt::add_torrent_params atp = lt::parse_magnet_uri(source, ec);
    if (ec) return Error::invalid_argument("magnet link: " + ec.message());
    return Source{std::move(atp), {}};
  }
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0)
    return params_from_release_url(source, http, stop);
  return source_from_file(source);
}

Result<std::string> source_info_hash(const std::string& source, const HttpOptions& http,
                                     const std::atomic<bool>* stop) {
  MS_ASSIGN_OR_RETURN(Source src, params_from_source(source, http, stop));
  const lt::add_torrent_params& atp = src.atp;
  return info_hash_hex(atp.ti ? atp.ti->info_hashes() : atp.info_hashes);
}

}  // namespace modelswarm::swarm
