// The catalogue file: repo ids and revisions mapped to signed releases (gateway.hpp).
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "format/json_limits.hpp"
#include "mirror/json_fields.hpp"
#include "modelswarm/gateway.hpp"

namespace modelswarm {

namespace fs = std::filesystem;
using nlohmann::json;

using namespace json_fields;

namespace {

constexpr size_t kMaxCatalogueBytes = 16u << 20;

// Hub repo ids: one or two parts of [A-Za-z0-9._-], neither starting with '.' or '-'. Anything
// else could not come back through a URL path unchanged.
bool valid_repo_id(const std::string& id) {
  auto part_ok = [](std::string_view p) {
    if (p.empty() || p.size() > 96 || p[0] == '.' || p[0] == '-') return false;
    for (char c : p)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
    return true;
  };
  auto slash = id.find('/');
  if (slash == std::string::npos) return part_ok(id);
  return part_ok(std::string_view(id).substr(0, slash)) && part_ok(std::string_view(id).substr(slash + 1));
}

bool valid_revision(const std::string& r) {
  if (r.empty() || r.size() > 128) return false;
  for (char c : r)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return false;
  return true;
}

Result<CatalogueRelease> parse_release(const json& r, std::string_view origin, const std::string& where,
                                       const fs::path& base, const std::vector<std::string>& repo_trust,
                                       const fs::path& default_dest_root) {
  if (!r.is_object()) return bad(origin, where + ": expected an object");
  MS_TRY(only_keys(r, {"version", "source", "trust", "revisions", "dest"}, origin, where));
  CatalogueRelease rel;
  if (!r.contains("version") || !r["version"].is_number_integer() || r["version"].get<std::int64_t>() < 0)
    return bad(origin, where + ": \"version\" (the release's signed version, an integer) is required");
  rel.version = r["version"].get<std::int64_t>();
  if (!r.contains("source") || !r["source"].is_string() || r["source"].get<std::string>().empty())
    return bad(origin, where + ": \"source\" (magnet link, .torrent path or release URL) is required");
  rel.source = resolve_source(base, r["source"].get<std::string>());
  if (r.contains("trust")) {
    MS_ASSIGN_OR_RETURN(rel.trust, string_list(r["trust"], origin, where + ".trust"));
  } else {
    rel.trust = repo_trust;
  }
  if (rel.trust.empty()) return bad(origin, where + ": \"trust\" (publisher key) is required, here or for the repo");
  for (auto& k : rel.trust)
    if (k.rfind("RW", 0) != 0) k = resolve(base, k).string();  // a .pub file path
  if (r.contains("revisions")) {
    MS_ASSIGN_OR_RETURN(rel.revisions, string_list(r["revisions"], origin, where + ".revisions"));
    for (const auto& rev : rel.revisions)
      if (!valid_revision(rev)) return bad(origin, where + ": revision '" + rev + "' is not a valid name");
  }
  if (r.contains("dest")) {
    if (!r["dest"].is_string() || r["dest"].get<std::string>().empty())
      return bad(origin, where + ": \"dest\" must be a directory path");
    rel.dest = resolve(base, r["dest"].get<std::string>());
  } else {
    if (default_dest_root.empty())
      return bad(origin, where + ": no \"dest\", and the catalogue has no \"store\" directory");
    rel.dest = default_dest_root / std::to_string(rel.version);
  }
  return rel;
}

}  // namespace

const CatalogueRepo* Catalogue::find(std::string_view repo_id) const {
  for (const auto& r : repos)
    if (r.id == repo_id) return &r;
  return nullptr;
}

std::string commit_id_for(const std::string& info_hash) { return info_hash.substr(0, 40); }

Result<Catalogue> parse_catalogue(std::string_view text, std::string_view origin, const fs::path& base_dir) {
  auto parsed = format::parse_untrusted_json(text, std::string(origin), 16);
  if (!parsed.ok()) return parsed.error();
  json doc = std::move(parsed).value();
  if (!doc.is_object()) return bad(origin, "expected a JSON object");
  MS_TRY(only_keys(doc, {"format", "store", "repos", "peers", "trackers"}, origin, "top level"));
  if (!doc.contains("format") || doc["format"] != kCatalogueFormat)
    return bad(origin, "\"format\" must be \"" + std::string(kCatalogueFormat) + "\"");
  if (!doc.contains("repos") || !doc["repos"].is_object()) return bad(origin, "\"repos\" must be an object");
  Catalogue cat;
  fs::path store;
  if (doc.contains("store")) {
    if (!doc["store"].is_string() || doc["store"].get<std::string>().empty())
      return bad(origin, "\"store\" must be a directory path");
    store = resolve(base_dir, doc["store"].get<std::string>());
  }
  if (doc.contains("peers")) {
    MS_ASSIGN_OR_RETURN(cat.peers, string_list(doc["peers"], origin, "peers"));
  }
  if (doc.contains("trackers")) {
    MS_ASSIGN_OR_RETURN(cat.trackers, string_list(doc["trackers"], origin, "trackers"));
  }
  for (auto it = doc["repos"].begin(); it != doc["repos"].end(); ++it) {
    const std::string where = "repos[\"" + it.key() + "\"]";
    if (!valid_repo_id(it.key())) return bad(origin, where + ": not a repo id (ORG/NAME or NAME)");
    const json& r = it.value();
    if (!r.is_object()) return bad(origin, where + ": expected an object");
    MS_TRY(only_keys(r, {"trust", "releases"}, origin, where));
    std::vector<std::string> repo_trust;
    if (r.contains("trust")) {
      MS_ASSIGN_OR_RETURN(repo_trust, string_list(r["trust"], origin, where + ".trust"));
    }
    if (!r.contains("releases") || !r["releases"].is_array() || r["releases"].empty())
      return bad(origin, where + ": \"releases\" must be a non-empty array");
    CatalogueRepo repo;
    repo.id = it.key();
    std::string dir_name = repo.id;
    if (auto slash = dir_name.find('/'); slash != std::string::npos) dir_name.replace(slash, 1, "--");
    std::set<std::int64_t> versions;
    std::set<std::string> names{"main", "HEAD"};
    size_t i = 0;
    for (const auto& jr : r["releases"]) {
      const std::string rwhere = where + ".releases[" + std::to_string(i++) + "]";
      MS_ASSIGN_OR_RETURN(CatalogueRelease rel,
                          parse_release(jr, origin, rwhere, base_dir, repo_trust, store.empty() ? fs::path() : store / dir_name));
      if (!versions.insert(rel.version).second)
        return bad(origin, rwhere + ": version " + std::to_string(rel.version) + " is listed twice");
      for (const auto& rev : rel.revisions)
        if (!names.insert(rev).second) return bad(origin, rwhere + ": revision '" + rev + "' is taken");
      repo.releases.push_back(std::move(rel));
    }
    cat.repos.push_back(std::move(repo));
  }
  return cat;
}

Result<Catalogue> load_catalogue(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return Error::io(path.string() + ": cannot read: " + ec.message());
  if (size > kMaxCatalogueBytes) return Error::format(path.string() + ": catalogue too large");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) return Error::io(path.string() + ": read failed");
  fs::path base = fs::absolute(path, ec).parent_path();
  return parse_catalogue(ss.str(), path.string(), base);
}

}  // namespace modelswarm
