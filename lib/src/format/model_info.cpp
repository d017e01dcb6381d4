// read_model_info: decides what a path holds (GGUF, safetensors file, sharded checkpoint) and
// turns the format's own header into the shared ModelInfo.
#include "modelswarm/model_info.hpp"

#include <algorithm>
#include <system_error>

#include "format/header_reader.hpp"
#include "format/json_limits.hpp"
#include "format/utf8.hpp"
#include "modelswarm/gguf.hpp"
#include "modelswarm/safetensors.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

const char* model_format_name(ModelFormat f) {
  return f == ModelFormat::gguf ? "gguf" : "safetensors";
}

uint64_t TensorInfo::element_count() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

const TensorInfo* ModelInfo::find_tensor(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

uint64_t ModelInfo::parameter_count() const {
  uint64_t n = 0;
  for (const auto& t : tensors) n += t.element_count();
  return n;
}

uint64_t ModelInfo::tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors) n += t.size;
  return n;
}

std::string ModelInfo::architecture() const {
  if (format == ModelFormat::gguf) return metadata.string_or("general.architecture", "");
  return metadata.string_or("config.model_type", "");
}

std::vector<uint64_t> ModelInfo::row_major_shape(const TensorInfo& t) const {
  std::vector<uint64_t> s = t.shape;
  if (format == ModelFormat::gguf) std::reverse(s.begin(), s.end());
  return s;
}

namespace {

ModelInfo from_gguf(GgufFile g) {
  ModelInfo m;
  m.format = ModelFormat::gguf;
  m.gguf_version = g.version;
  m.gguf_alignment = g.alignment;
  m.files.push_back(g.path);
  m.header_sizes.push_back(g.data_offset);
  m.file_sizes.push_back(g.file_size);
  m.tensors.reserve(g.tensors.size());
  for (auto& t : g.tensors) {
    TensorInfo ti;
    ti.name = std::move(t.name);
    ti.dtype = std::string(ggml_type_traits(static_cast<uint32_t>(t.type))->name);
    ti.ggml_type = t.type;
    ti.shape = std::move(t.dims);
    ti.offset = g.data_offset + t.offset;
    ti.size = t.size;
    ti.file_index = 0;
    m.tensors.push_back(std::move(ti));
  }
  m.metadata = std::move(g.metadata);
  return m;
}

void add_safetensors(ModelInfo& m, SafetensorsFile s) {
  auto index = static_cast<uint32_t>(m.files.size());
  m.files.push_back(s.path);
  m.header_sizes.push_back(s.data_offset);
  m.file_sizes.push_back(s.file_size);
  for (auto& t : s.tensors) {
    TensorInfo ti;
    ti.name = std::move(t.name);
    ti.dtype = t.dtype;
    ti.ggml_type = safetensors_dtype(t.dtype)->ggml;
    ti.shape = std::move(t.shape);
    ti.offset = s.data_offset + t.begin;
    ti.size = t.end - t.begin;
    ti.file_index = index;
    m.tensors.push_back(std::move(ti));
  }
  for (auto& [k, v] : s.metadata)
    if (!m.metadata.contains(k)) m.metadata.set(k, MetaValue::string(std::move(v)));
}

// config.json next to safetensors weights: its scalars become "config.<key>" metadata.
Status add_hf_config(ModelInfo& m, const fs::path& path) {
  MS_ASSIGN_OR_RETURN(format::HeaderReader r, format::HeaderReader::open(path));
  if (r.file_size() > (16u << 20)) return r.format_error("config.json is over 16 MiB");
  std::string text;
  MS_TRY(r.read_string(text, r.file_size(), "config.json"));
  MS_ASSIGN_OR_RETURN(nlohmann::json j, format::parse_untrusted_json(text, r.name(), 32));
  if (!j.is_object()) return r.format_error("not a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = "config." + it.key();
    const auto& v = *it;
    if (v.is_string()) m.metadata.set(key, MetaValue::string(v.get<std::string>()));
    else if (v.is_boolean()) m.metadata.set(key, MetaValue::boolean(v.get<bool>()));
    else if (v.is_number_unsigned()) m.metadata.set(key, MetaValue::u64(v.get<uint64_t>()));
    else if (v.is_number_integer()) m.metadata.set(key, MetaValue::i64(v.get<int64_t>()));
    else if (v.is_number_float()) m.metadata.set(key, MetaValue::f64(v.get<double>()));
  }
  if (auto a = j.find("architectures"); a != j.end() && a->is_array() && !a->empty() &&
                                        (*a)[0].is_string())
    m.metadata.set("config.architecture", MetaValue::string((*a)[0].get<std::string>()));
  return {};
}

Status maybe_add_config(ModelInfo& m, const fs::path& dir) {
  std::error_code ec;
  fs::path cfg = dir / "config.json";
  if (!fs::is_regular_file(cfg, ec)) return {};
  return add_hf_config(m, cfg);
}

Result<ModelInfo> read_sharded(const fs::path& index_path) {
  MS_ASSIGN_OR_RETURN(SafetensorsIndex idx, read_safetensors_index(index_path));
  const fs::path dir = index_path.parent_path();
  ModelInfo m;
  m.format = ModelFormat::safetensors;
  m.metadata.set_origin(index_path.string());
  size_t listed = 0;
  for (const auto& shard : idx.shards) {
    MS_ASSIGN_OR_RETURN(SafetensorsFile s, read_safetensors(dir / shard));
    for (const auto& t : s.tensors) {
      auto it = idx.weight_map.find(t.name);
      if (it == idx.weight_map.end())
        return Error::format(s.path.string() + ": tensor '" + format::printable_name(t.name) +
                             "' is not listed in " + index_path.string());
      if (it->second != shard)
        return Error::format(s.path.string() + ": tensor '" + format::printable_name(t.name) +
                             "' is listed in " + index_path.string() + " under " + it->second);
      ++listed;
    }
    add_safetensors(m, std::move(s));
  }
  if (listed != idx.weight_map.size()) {
    for (const auto& [name, shard] : idx.weight_map)
      if (!m.find_tensor(name))
        return Error::format(index_path.string() + ": lists tensor '" +
                             format::printable_name(name) + "' in " + shard +
                             ", which does not contain it");
  }
  MS_TRY(maybe_add_config(m, dir));
  return m;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<ModelInfo> read_file(const fs::path& path) {
  uint8_t head[4] = {};
  {
    MS_ASSIGN_OR_RETURN(format::HeaderReader r, format::HeaderReader::open(path));
    if (r.file_size() >= 4) MS_TRY(r.read(head, 4, "the magic"));
  }
  if (looks_like_gguf(head)) {
    MS_ASSIGN_OR_RETURN(GgufFile g, read_gguf(path));
    return from_gguf(std::move(g));
  }
  const std::string name = path.filename().string();
  if (ends_with(name, ".index.json")) return read_sharded(path);
  auto s = read_safetensors(path);
  if (!s.ok()) {
    if (ends_with(name, ".safetensors") || s.error().code != ErrorCode::format) return s.error();
    return Error::format(path.string() + ": not a GGUF or safetensors file (" +
                         s.error().message.substr(std::min(s.error().message.size(),
                                                           path.string().size() + 2)) + ")");
  }
  ModelInfo m;
  m.format = ModelFormat::safetensors;
  m.metadata.set_origin(path.string());
  add_safetensors(m, std::move(s).value());
  return m;
}

Result<ModelInfo> read_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_regular_file(dir / kSafetensorsIndexName, ec))
    return read_sharded(dir / kSafetensorsIndexName);
  std::vector<fs::path> indexes, safetensors, ggufs;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string n = it->path().filename().string();
    if (ends_with(n, ".safetensors.index.json")) indexes.push_back(it->path());
    else if (ends_with(n, ".safetensors")) safetensors.push_back(it->path());
    else if (ends_with(n, ".gguf")) ggufs.push_back(it->path());
  }
  if (ec) return Error::io(dir.string() + ": cannot list directory: " + ec.message());
  auto only = [&](std::vector<fs::path>& v, const char* kind) -> Result<fs::path> {
    std::sort(v.begin(), v.end());
    if (v.size() == 1) return v[0];
    return Error::invalid_argument(dir.string() + ": holds " + std::to_string(v.size()) + " " +
                                   kind + " files and no " + kSafetensorsIndexName +
                                   "; name the model file");
  };
  if (!indexes.empty()) {
    MS_ASSIGN_OR_RETURN(fs::path p, only(indexes, "*.safetensors.index.json"));
    return read_sharded(p);
  }
  if (!safetensors.empty()) {
    MS_ASSIGN_OR_RETURN(fs::path p, only(safetensors, ".safetensors"));
    MS_ASSIGN_OR_RETURN(ModelInfo m, read_file(p));
    MS_TRY(maybe_add_config(m, dir));
    return m;
  }
  if (!ggufs.empty()) {
    MS_ASSIGN_OR_RETURN(fs::path p, only(ggufs, ".gguf"));
    return read_file(p);
  }
  return Error::invalid_argument(dir.string() + ": no .gguf or .safetensors file in directory");
}

}  // namespace

Result<ModelInfo> read_model_info(const fs::path& path) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return Error::io(path.string() + ": cannot open: " +
                     (ec ? ec.message() : std::string("No such file or directory")));
  if (fs::is_directory(st)) return read_dir(path);
  return read_file(path);
}

}  // namespace modelswarm
