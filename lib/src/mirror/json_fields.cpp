#include "mirror/json_fields.hpp"

#include <set>

#include "modelswarm/channel.hpp"

namespace modelswarm::json_fields {

namespace fs = std::filesystem;
using nlohmann::json;

Error bad(std::string_view origin, const std::string& what) {
  return Error::format(std::string(origin) + ": " + what);
}

Status only_keys(const json& obj, std::initializer_list<const char*> allowed, std::string_view origin,
                 const std::string& where) {
  std::set<std::string> ok(allowed.begin(), allowed.end());
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!ok.count(it.key())) return bad(origin, where + ": unknown key '" + it.key() + "'");
  return Status::success();
}

Result<std::vector<std::string>> string_list(const json& v, std::string_view origin,
                                             const std::string& where) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& s : v) {
      if (!s.is_string()) return bad(origin, where + ": expected strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    return bad(origin, where + ": expected a string or an array of strings");
  }
  for (const auto& s : out)
    if (s.empty()) return bad(origin, where + ": empty string");
  return out;
}

fs::path resolve(const fs::path& base, const std::string& p) {
  fs::path path(p);
  return path.is_absolute() ? path : base / path;
}

std::string resolve_source(const fs::path& base, const std::string& s) {
  if (s.rfind("magnet:", 0) == 0 || s.find("://") != std::string::npos) return s;
  if (looks_like_channel(s)) {
    auto slash = s.rfind('/');
    std::string key = s.substr(0, slash);
    if (key.size() > 4 && key.substr(key.size() - 4) == ".pub") key = resolve(base, key).string();
    return key + s.substr(slash);
  }
  return resolve(base, s).string();
}

}  // namespace modelswarm::json_fields
