// Private to lib/src/mirror and its users (the gateway's catalogue): the strict field rules the
// mirror file and the catalogue share. Every error is a format error naming the file (`origin`)
// and the field (`where`).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm::json_fields {

Error bad(std::string_view origin, const std::string& what);
// Unknown keys are errors: a typo must not silently turn an option off.
Status only_keys(const nlohmann::json& obj, std::initializer_list<const char*> allowed, std::string_view origin,
                 const std::string& where);
// A string or an array of strings, none empty.
Result<std::vector<std::string>> string_list(const nlohmann::json& v, std::string_view origin,
                                             const std::string& where);
// `p` against `base` unless absolute.
std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p);
// A release source as written in the file: links, URLs and channel keys stay; paths (a .torrent,
// a channel's .pub file) are resolved against the file's directory.
std::string resolve_source(const std::filesystem::path& base, const std::string& s);

}  // namespace modelswarm::json_fields
