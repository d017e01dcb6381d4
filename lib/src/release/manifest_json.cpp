// Canonical JSON form of the manifest and its strict parser.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "format/json_limits.hpp"
#include "modelswarm/manifest.hpp"

namespace modelswarm {

using nlohmann::json;

namespace {

json chunk_json(const Chunk& c) {
  json j = {{"name", c.name}, {"offset", c.offset}, {"size", c.size}, {"sha256", to_hex(c.sha256)}};
  if (c.dtype) j["dtype"] = *c.dtype;
  if (c.shape) j["shape"] = *c.shape;
  return j;
}

// Parse errors carry a JSON-pointer-like location.
struct Ctx {
  std::string origin;
  Error fail(const std::string& where, const std::string& what) const {
    return Error::format(origin + ": " + where + ": " + what);
  }
};

Status expect_keys(const Ctx& c, const json& j, const std::string& where,
                   std::initializer_list<const char*> required,
                   std::initializer_list<const char*> optional) {
  if (!j.is_object()) return c.fail(where, "must be an object");
  std::set<std::string> allowed;
  for (auto k : required) {
    allowed.insert(k);
    if (!j.contains(k)) return c.fail(where, std::string("missing \"") + k + "\"");
  }
  for (auto k : optional) allowed.insert(k);
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!allowed.count(it.key())) return c.fail(where, "unknown key \"" + it.key() + "\"");
  return Status::success();
}

Result<std::string> get_string(const Ctx& c, const json& j, const std::string& where) {
  if (!j.is_string()) return c.fail(where, "must be a string");
  return j.get<std::string>();
}

Result<uint64_t> get_u64(const Ctx& c, const json& j, const std::string& where) {
  if (!j.is_number_unsigned()) return c.fail(where, "must be a non-negative integer");
  return j.get<uint64_t>();
}

Result<Sha256Digest> get_digest(const Ctx& c, const json& j, const std::string& where) {
  MS_ASSIGN_OR_RETURN(std::string s, get_string(c, j, where));
  auto d = sha256_from_hex(s);
  if (!d) return c.fail(where, "must be 64 lower-case hex digits");
  return *d;
}

Result<Chunk> parse_chunk(const Ctx& c, const json& j, const std::string& where) {
  MS_TRY(expect_keys(c, j, where, {"name", "offset", "size", "sha256"}, {"dtype", "shape"}));
  Chunk ch;
  MS_ASSIGN_OR_RETURN(ch.name, get_string(c, j["name"], where + ".name"));
  MS_ASSIGN_OR_RETURN(ch.offset, get_u64(c, j["offset"], where + ".offset"));
  MS_ASSIGN_OR_RETURN(ch.size, get_u64(c, j["size"], where + ".size"));
  MS_ASSIGN_OR_RETURN(ch.sha256, get_digest(c, j["sha256"], where + ".sha256"));
  if (j.contains("dtype")) {
    MS_ASSIGN_OR_RETURN(std::string d, get_string(c, j["dtype"], where + ".dtype"));
    ch.dtype = d;
  }
  if (j.contains("shape")) {
    const json& s = j["shape"];
    if (!s.is_array() || s.size() > 8) return c.fail(where + ".shape", "must be an array of at most 8 integers");
    std::vector<uint64_t> dims;
    for (size_t i = 0; i < s.size(); ++i) {
      MS_ASSIGN_OR_RETURN(uint64_t d, get_u64(c, s[i], where + ".shape"));
      dims.push_back(d);
    }
    ch.shape = dims;
  }
  return ch;
}

Result<ManifestFile> parse_file(const Ctx& c, const json& j, const std::string& where) {
  MS_TRY(expect_keys(c, j, where, {"path", "size", "sha256", "format", "chunks"}, {"pieces_root"}));
  ManifestFile f;
  MS_ASSIGN_OR_RETURN(f.path, get_string(c, j["path"], where + ".path"));
  MS_ASSIGN_OR_RETURN(f.size, get_u64(c, j["size"], where + ".size"));
  MS_ASSIGN_OR_RETURN(f.sha256, get_digest(c, j["sha256"], where + ".sha256"));
  if (j.contains("pieces_root")) {
    MS_ASSIGN_OR_RETURN(Sha256Digest r, get_digest(c, j["pieces_root"], where + ".pieces_root"));
    f.pieces_root = r;
  }
  MS_ASSIGN_OR_RETURN(std::string fmt, get_string(c, j["format"], where + ".format"));
  if (fmt == "gguf") f.format = FileFormat::gguf;
  else if (fmt == "safetensors") f.format = FileFormat::safetensors;
  else if (fmt == "other") f.format = FileFormat::other;
  else return c.fail(where + ".format", "must be \"gguf\", \"safetensors\" or \"other\"");
  const json& chunks = j["chunks"];
  if (!chunks.is_array()) return c.fail(where + ".chunks", "must be an array");
  f.chunks.reserve(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    MS_ASSIGN_OR_RETURN(Chunk ch, parse_chunk(c, chunks[i], where + ".chunks[" + std::to_string(i) + "]"));
    f.chunks.push_back(std::move(ch));
  }
  return f;
}

}  // namespace

std::string serialize_manifest(const Manifest& m) {
  json files = json::array();
  for (const auto& f : m.files) {
    json chunks = json::array();
    for (const auto& c : f.chunks) chunks.push_back(chunk_json(c));
    json jf = {{"path", f.path}, {"size", f.size}, {"sha256", to_hex(f.sha256)},
               {"format", file_format_name(f.format)}, {"chunks", std::move(chunks)}};
    if (f.pieces_root) jf["pieces_root"] = to_hex(*f.pieces_root);
    files.push_back(std::move(jf));
  }
  json j = {{"format", kManifestFormat},
            {"name", m.name},
            {"version", m.version},
            {"created", m.created},
            {"publisher", {{"key_id", m.publisher.key_id}, {"public_key", m.publisher.public_key}}},
            {"files", std::move(files)}};
  if (m.expires) j["expires"] = *m.expires;
  // nlohmann's default object is a std::map: keys come out sorted. Invalid UTF-8 (a tensor name
  // from a hostile file) is replaced rather than aborting.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<Manifest> parse_manifest(std::string_view text, std::string_view origin) {
  Ctx c{std::string(origin)};
  if (text.size() > kMaxManifestBytes) return c.fail("manifest", "too large");
  // Depth is bounded by the schema, but the parser itself must not recurse without limit; a
  // duplicate key would let two readers of one signed manifest see different values.
  auto parsed = format::parse_untrusted_json(text, c.origin + ": manifest", 8);
  if (!parsed.ok()) return parsed.error();
  json j = std::move(parsed).value();
  MS_TRY(expect_keys(c, j, "manifest", {"format", "name", "version", "created", "publisher", "files"},
                     {"expires"}));
  MS_ASSIGN_OR_RETURN(std::string format, get_string(c, j["format"], "format"));
  if (format != kManifestFormat)
    return Error::unsupported(c.origin + ": format \"" + format + "\" is not " + std::string(kManifestFormat));
  Manifest m;
  MS_ASSIGN_OR_RETURN(m.name, get_string(c, j["name"], "name"));
  MS_ASSIGN_OR_RETURN(m.version, get_u64(c, j["version"], "version"));
  MS_ASSIGN_OR_RETURN(m.created, get_string(c, j["created"], "created"));
  if (j.contains("expires")) {
    MS_ASSIGN_OR_RETURN(std::string e, get_string(c, j["expires"], "expires"));
    m.expires = e;
  }
  MS_TRY(expect_keys(c, j["publisher"], "publisher", {"key_id", "public_key"}, {}));
  MS_ASSIGN_OR_RETURN(m.publisher.key_id, get_string(c, j["publisher"]["key_id"], "publisher.key_id"));
  MS_ASSIGN_OR_RETURN(m.publisher.public_key, get_string(c, j["publisher"]["public_key"], "publisher.public_key"));
  const json& files = j["files"];
  if (!files.is_array()) return c.fail("files", "must be an array");
  for (size_t i = 0; i < files.size(); ++i) {
    MS_ASSIGN_OR_RETURN(ManifestFile f, parse_file(c, files[i], "files[" + std::to_string(i) + "]"));
    m.files.push_back(std::move(f));
  }
  Status st = validate_manifest(m);
  if (!st.ok()) return Error{st.error().code, c.origin + ": " + st.error().message};
  return m;
}

}  // namespace modelswarm
