// Registry operations beyond add/list: register a release directory found on disk (pack,
// verify), look entries up by what a user types, forget them.
#include <algorithm>

#include "modelswarm/manifest.hpp"
#include "modelswarm/paths.hpp"
#include "modelswarm/registry.hpp"
#include "modelswarm/release.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

bool is_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The torrent's v2 info hash when DIR holds one; else the SHA-256 of the manifest bytes.
Result<std::string> release_id(const fs::path& dir) {
  fs::path torrent = dir / std::string(kTorrentPath);
  std::error_code ec;
  if (fs::is_regular_file(torrent, ec))
    if (auto t = read_release_torrent(torrent); t.ok() && !t->info_hash_v2.empty()) return t->info_hash_v2;
  MS_ASSIGN_OR_RETURN(std::string bytes, read_small_file(dir / std::string(kManifestPath), kMaxManifestBytes));
  return to_hex(sha256(bytes));
}

}  // namespace

Status register_release_dir(const fs::path& dir, const Manifest& m, const std::vector<FileStamp>& proven) {
  std::error_code ec;
  fs::path abs = fs::absolute(dir, ec).lexically_normal();
  if (ec) return Error::io(dir.string() + ": " + ec.message());
  MS_ASSIGN_OR_RETURN(std::string id, release_id(abs));
  // One entry per directory: a directory re-packed as a new version replaces its old entry.
  MS_ASSIGN_OR_RETURN(std::vector<RegistryEntry> all, list_registered());
  for (const auto& e : all)
    if (e.info_hash != id && e.dir.lexically_normal() == abs) MS_TRY(forget_release(e.info_hash));
  RegistryEntry entry;
  entry.name = m.name;
  entry.version = m.version;
  entry.dir = abs;
  entry.manifest = abs / std::string(kManifestPath);
  entry.info_hash = id;
  entry.publisher_key = m.publisher.public_key;
  entry.stamps = still_unchanged(abs, proven);
  // The signed files were just written (pack) or read and checked (verify); seed checks the
  // signature again at start in any case.
  for (std::string_view meta : {kManifestPath, kSignaturePath})
    if (auto st = stamp_file(abs, std::string(meta)); st.ok()) entry.stamps.push_back(std::move(*st));
  return register_release(std::move(entry));
}

Status forget_release(const std::string& info_hash) {
  if (!is_hex(info_hash)) return Error::invalid_argument("registry: bad info hash '" + info_hash + "'");
  fs::path file = registry_dir() / (info_hash + ".json");
  std::error_code ec;
  if (!fs::remove(file, ec)) {
    if (ec) return Error::io(file.string() + ": cannot remove: " + ec.message());
    return Error::invalid_argument("no registered release with info hash " + info_hash);
  }
  return Status::success();
}

Result<std::optional<RegistryEntry>> registered_by_id(const std::string& info_hash) {
  MS_ASSIGN_OR_RETURN(std::vector<RegistryEntry> all, list_registered());
  for (auto& e : all)
    if (e.info_hash == info_hash) return std::optional<RegistryEntry>(std::move(e));
  return std::optional<RegistryEntry>();
}

Result<std::vector<RegistryEntry>> find_registered(std::string_view selector) {
  MS_ASSIGN_OR_RETURN(std::vector<RegistryEntry> all, list_registered());
  std::vector<RegistryEntry> out;
  std::string sel(selector);
  std::string lower = sel;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::error_code ec;
  fs::path as_dir = fs::exists(sel, ec) ? fs::absolute(sel, ec).lexically_normal() : fs::path();
  auto at = sel.rfind('@');
  for (auto& e : all) {
    bool match = false;
    if (is_hex(lower) && lower.size() >= 8) match = e.info_hash.rfind(lower, 0) == 0;
    if (!match) match = e.name == sel;
    if (!match && at != std::string::npos)
      match = e.name == sel.substr(0, at) && std::to_string(e.version) == sel.substr(at + 1);
    if (!match && !as_dir.empty()) match = e.dir.lexically_normal() == as_dir;
    if (match) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace modelswarm
