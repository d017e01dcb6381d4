// The mirror file (mirror.hpp): strict parse, paths resolved against its directory.
#include <nlohmann/json.hpp>

#include "format/json_limits.hpp"
#include "mirror/json_fields.hpp"
#include "modelswarm/channel.hpp"
#include "modelswarm/mirror.hpp"
#include "modelswarm/paths.hpp"

namespace modelswarm {

namespace fs = std::filesystem;
using nlohmann::json;

using namespace json_fields;

namespace {

constexpr size_t kMaxMirrorFileBytes = 16u << 20;

}  // namespace

Result<MirrorFile> parse_mirror_file(std::string_view text, std::string_view origin,
                                     const fs::path& base_dir) {
  auto parsed = format::parse_untrusted_json(text, std::string(origin), 16);
  if (!parsed.ok()) return parsed.error();
  json doc = std::move(parsed).value();
  if (!doc.is_object()) return bad(origin, "expected a JSON object");
  MS_TRY(only_keys(doc, {"format", "releases", "peers", "trackers"}, origin, "top level"));
  if (!doc.contains("format") || doc["format"] != kMirrorFormat)
    return bad(origin, "\"format\" must be \"" + std::string(kMirrorFormat) + "\"");
  if (!doc.contains("releases") || !doc["releases"].is_array())
    return bad(origin, "\"releases\" must be an array");

  MirrorFile file;
  if (doc.contains("peers")) {
    MS_ASSIGN_OR_RETURN(file.peers, string_list(doc["peers"], origin, "peers"));
  }
  if (doc.contains("trackers")) {
    MS_ASSIGN_OR_RETURN(file.trackers, string_list(doc["trackers"], origin, "trackers"));
  }
  size_t i = 0;
  for (const auto& r : doc["releases"]) {
    std::string where = "releases[" + std::to_string(i++) + "]";
    if (!r.is_object()) return bad(origin, where + ": expected an object");
    MS_TRY(only_keys(r, {"source", "trust", "dest", "track"}, origin, where));
    MirrorEntry e;
    if (!r.contains("source") || !r["source"].is_string() || r["source"].get<std::string>().empty())
      return bad(origin, where + ": \"source\" (magnet link or .torrent path) is required");
    e.source = resolve_source(base_dir, r["source"].get<std::string>());
    const bool channel = looks_like_channel(e.source);
    if (!r.contains("trust") && !channel)
      return bad(origin, where + ": \"trust\" (publisher key) is required unless the source is a channel");
    if (r.contains("trust")) {
      MS_ASSIGN_OR_RETURN(e.trust, string_list(r["trust"], origin, where + ".trust"));
      if (e.trust.empty()) return bad(origin, where + ": \"trust\" is empty");
    }
    for (auto& k : e.trust)
      if (k.rfind("RW", 0) != 0) k = resolve(base_dir, k).string();  // a .pub file path
    if (!r.contains("dest") || !r["dest"].is_string() || r["dest"].get<std::string>().empty())
      return bad(origin, where + ": \"dest\" (destination directory) is required");
    e.dest = resolve(base_dir, r["dest"].get<std::string>());
    if (r.contains("track")) {
      if (!r["track"].is_string() || r["track"].get<std::string>().empty())
        return bad(origin, where + ": \"track\" must be a file path");
      e.track = resolve(base_dir, r["track"].get<std::string>());
    }
    file.releases.push_back(std::move(e));
  }
  return file;
}

Result<MirrorFile> load_mirror_file(const fs::path& path) {
  MS_ASSIGN_OR_RETURN(std::string text, read_small_file(path, kMaxMirrorFileBytes));
  std::error_code ec;
  fs::path base = path.has_parent_path() ? fs::absolute(path, ec).parent_path() : fs::current_path(ec);
  return parse_mirror_file(text, path.string(), base);
}

const char* mirror_status_name(MirrorResult::Status s) {
  switch (s) {
    case MirrorResult::Status::up_to_date: return "up-to-date";
    case MirrorResult::Status::fetched: return "fetched";
    case MirrorResult::Status::updated: return "updated";
    case MirrorResult::Status::failed: return "failed";
  }
  return "failed";
}

}  // namespace modelswarm
