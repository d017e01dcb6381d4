// model.safetensors.index.json: {"metadata": {...}, "weight_map": {"tensor": "shard file"}}.
#include <set>

#include "format/header_reader.hpp"
#include "format/json_limits.hpp"
#include "format/utf8.hpp"
#include "modelswarm/safetensors.hpp"

namespace modelswarm {

namespace {
bool is_plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}
}  // namespace

Result<SafetensorsIndex> parse_safetensors_index(std::string_view text, std::string_view name) {
  const std::string file(name);
  using json = nlohmann::json;
  MS_ASSIGN_OR_RETURN(json j, format::parse_untrusted_json(text, file, 4));
  if (!j.is_object()) return Error::format(file + ": not a JSON object");
  SafetensorsIndex idx;
  idx.path = file;
  if (auto m = j.find("metadata"); m != j.end() && !m->is_null()) {
    if (!m->is_object()) return Error::format(file + ": \"metadata\" is not an object");
    for (auto it = m->begin(); it != m->end(); ++it)
      idx.metadata.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
  }
  auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) return Error::format(file + ": no \"weight_map\" object");
  std::set<std::string> shards;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string())
      return Error::format(file + ": weight_map entry '" + format::printable_name(it.key()) +
                           "' is not a string");
    std::string shard = it->get<std::string>();
    if (!is_plain_file_name(shard))
      return Error::format(file + ": weight_map names shard '" + format::printable_name(shard) +
                           "', which is not a plain file name");
    shards.insert(shard);
    idx.weight_map.emplace(it.key(), std::move(shard));
  }
  if (idx.weight_map.empty()) return Error::format(file + ": weight_map is empty");
  idx.shards.assign(shards.begin(), shards.end());
  return idx;
}

Result<SafetensorsIndex> read_safetensors_index(const std::filesystem::path& path) {
  MS_ASSIGN_OR_RETURN(format::HeaderReader r, format::HeaderReader::open(path));
  if (r.file_size() > kSafetensorsMaxHeader)
    return r.format_error("index file is over the 100,000,000-byte limit");
  std::string text;
  MS_TRY(r.read_string(text, r.file_size(), "the index"));
  auto idx = parse_safetensors_index(text, r.name());
  if (idx.ok()) idx->path = path;
  return idx;
}

}  // namespace modelswarm
