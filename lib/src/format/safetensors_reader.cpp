// safetensors header parser. The JSON is bounded (100 MB, depth 3) before it is parsed, and the
// tensors must tile the data section exactly, as the reference implementation requires.
#include <algorithm>
#include <array>
#include <limits>

#include "format/header_reader.hpp"
#include "format/json_limits.hpp"
#include "format/utf8.hpp"
#include "modelswarm/safetensors.hpp"

namespace modelswarm {

namespace {

using json = nlohmann::json;

constexpr std::array<SafetensorsDtypeInfo, 20> kDtypes{{
    {"BOOL", 8, std::nullopt},     {"F4", 4, std::nullopt},       {"F6_E2M3", 6, std::nullopt},
    {"F6_E3M2", 6, std::nullopt},  {"U8", 8, std::nullopt},       {"I8", 8, GgmlType::I8},
    {"F8_E5M2", 8, std::nullopt},  {"F8_E4M3", 8, std::nullopt},  {"F8_E8M0", 8, std::nullopt},
    {"I16", 16, GgmlType::I16},    {"U16", 16, std::nullopt},     {"F16", 16, GgmlType::F16},
    {"BF16", 16, GgmlType::BF16},  {"I32", 32, GgmlType::I32},    {"U32", 32, std::nullopt},
    {"F32", 32, GgmlType::F32},    {"C64", 64, std::nullopt},     {"F64", 64, GgmlType::F64},
    {"I64", 64, GgmlType::I64},    {"U64", 64, std::nullopt},
}};

// A JSON number that is a non-negative integer representable in u64.
std::optional<uint64_t> as_index(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

Result<SafetensorsTensor> parse_tensor(const std::string& name, const json& v,
                                       const std::string& file) {
  const std::string shown = file + ": tensor '" + format::printable_name(name) + "'";
  if (!v.is_object()) return Error::format(shown + " is not an object");
  auto dt = v.find("dtype");
  auto sh = v.find("shape");
  auto off = v.find("data_offsets");
  if (dt == v.end() || !dt->is_string()) return Error::format(shown + " has no string \"dtype\"");
  if (sh == v.end() || !sh->is_array()) return Error::format(shown + " has no \"shape\" array");
  if (off == v.end() || !off->is_array() || off->size() != 2)
    return Error::format(shown + " has no \"data_offsets\" [begin, end]");

  SafetensorsTensor t;
  t.name = name;
  t.dtype = dt->get<std::string>();
  auto info = safetensors_dtype(t.dtype);
  if (!info)
    return Error::unsupported(shown + " has unknown dtype \"" + format::printable_name(t.dtype) + "\"");
  uint64_t elements = 1;
  for (const auto& d : *sh) {
    auto dim = as_index(d);
    if (!dim) return Error::format(shown + " has a shape entry that is not a non-negative integer");
    if (*dim != 0 && elements > std::numeric_limits<uint64_t>::max() / *dim)
      return Error::format(shown + " has a shape whose element count overflows");
    elements *= *dim;
    t.shape.push_back(*dim);
  }
  auto b = as_index((*off)[0]);
  auto e = as_index((*off)[1]);
  if (!b || !e) return Error::format(shown + " has data_offsets that are not non-negative integers");
  if (*b > *e) return Error::format(shown + " has data_offsets begin > end");
  t.begin = *b;
  t.end = *e;
  if (elements > std::numeric_limits<uint64_t>::max() / info->bits)
    return Error::format(shown + " byte size overflows");
  uint64_t bits = elements * info->bits;
  if (bits % 8 != 0)
    return Error::format(shown + " of " + t.dtype + " does not fill whole bytes");
  if (bits / 8 != t.size())
    return Error::format(shown + " holds " + std::to_string(t.size()) + " bytes but " + t.dtype +
                         " x shape needs " + std::to_string(bits / 8));
  return t;
}

}  // namespace

std::optional<SafetensorsDtypeInfo> safetensors_dtype(std::string_view name) {
  for (const auto& d : kDtypes)
    if (d.name == name) return d;
  return std::nullopt;
}

uint64_t SafetensorsTensor::element_count() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

const SafetensorsTensor* SafetensorsFile::find_tensor(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

Result<SafetensorsFile> parse_safetensors_header(std::string_view text, uint64_t file_size,
                                                 std::string_view name) {
  const std::string file(name);
  SafetensorsFile f;
  f.path = file;
  f.file_size = file_size;
  f.header_size = text.size();
  f.data_offset = 8 + text.size();
  if (text.size() > kSafetensorsMaxHeader)
    return Error::format(file + ": header is " + std::to_string(text.size()) +
                         " bytes, over the 100,000,000-byte limit");
  if (f.data_offset > file_size)
    return Error::format(file + ": truncated: header ends at " + std::to_string(f.data_offset) +
                         " but the file has " + std::to_string(file_size) + " bytes");
  MS_ASSIGN_OR_RETURN(json j, format::parse_untrusted_json(text, file + ": header", 3));
  if (!j.is_object()) return Error::format(file + ": header is not a JSON object");

  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return Error::format(file + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          return Error::format(file + ": __metadata__ value for '" +
                               format::printable_name(m.key()) + "' is not a string");
        f.metadata.emplace_back(m.key(), m->get<std::string>());
      }
      continue;
    }
    MS_ASSIGN_OR_RETURN(SafetensorsTensor t, parse_tensor(it.key(), *it, file));
    f.tensors.push_back(std::move(t));
  }

  std::stable_sort(f.tensors.begin(), f.tensors.end(),
                   [](const auto& a, const auto& b) { return a.begin < b.begin; });
  uint64_t expect = 0;
  for (const auto& t : f.tensors) {
    if (t.begin != expect) {
      const char* what = t.begin < expect ? "overlaps the previous tensor" : "leaves a gap before it";
      return Error::format(file + ": tensor '" + format::printable_name(t.name) + "' at [" +
                           std::to_string(t.begin) + ", " + std::to_string(t.end) + ") " + what +
                           " (expected it to start at " + std::to_string(expect) + ")");
    }
    expect = t.end;
  }
  uint64_t data_bytes = file_size - f.data_offset;
  if (expect != data_bytes) {
    if (expect > data_bytes)
      return Error::format(file + ": truncated: tensors need " + std::to_string(expect) +
                           " data bytes but the file has " + std::to_string(data_bytes));
    return Error::format(file + ": " + std::to_string(data_bytes - expect) +
                         " bytes after the last tensor are not described by the header");
  }
  return f;
}

namespace {
Result<SafetensorsFile> parse_from(format::HeaderReader& r) {
  uint64_t n = 0;
  MS_TRY(r.read_le(n, "the header length"));
  if (n > kSafetensorsMaxHeader)
    return r.format_error("header length " + std::to_string(n) +
                          " is over the 100,000,000-byte limit (not a safetensors file?)");
  if (n > r.remaining())
    return r.format_error("truncated: header length " + std::to_string(n) + " but only " +
                          std::to_string(r.remaining()) + " bytes follow");
  std::string text;
  MS_TRY(r.read_string(text, n, "the header"));
  return parse_safetensors_header(text, r.file_size(), r.name());
}
}  // namespace

Result<SafetensorsFile> read_safetensors(const std::filesystem::path& path) {
  MS_ASSIGN_OR_RETURN(format::HeaderReader r, format::HeaderReader::open(path));
  auto f = parse_from(r);
  if (f.ok()) f->path = path;
  return f;
}

Result<SafetensorsFile> parse_safetensors(std::span<const uint8_t> bytes, uint64_t file_size,
                                          std::string_view name) {
  format::HeaderReader r(bytes, file_size, std::string(name));
  return parse_from(r);
}

}  // namespace modelswarm
