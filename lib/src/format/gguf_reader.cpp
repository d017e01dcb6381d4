// GGUF header parser. Each count read from the file is compared with the bytes that remain
// before anything is allocated for it, so a 100-byte file cannot ask for gigabytes.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "format/header_reader.hpp"
#include "format/utf8.hpp"
#include "modelswarm/gguf.hpp"

namespace modelswarm {

namespace {

using format::HeaderReader;

// Strings longer than this in a header are not metadata a model needs (chat templates are tens
// of KB); refusing them keeps a hostile multi-GB file from costing multi-GB of memory.
constexpr uint64_t kMaxStringBytes = 64ull << 20;

class GgufParser {
 public:
  explicit GgufParser(HeaderReader& r) : r_(r) {}

  Result<GgufFile> parse() {
    GgufFile f;
    f.file_size = r_.file_size();
    uint32_t magic = 0;
    MS_TRY(r_.read_le(magic, "the magic"));
    if (magic != kGgufMagic) return r_.format_error("not a GGUF file (bad magic)");
    MS_TRY(r_.read_le(f.version, "the version"));
    if (f.version == 1)
      return Error::unsupported(r_.name() + ": GGUF version 1 is not supported (convert it to v3)");
    if (__builtin_bswap32(f.version) >= 1 && __builtin_bswap32(f.version) <= 3)
      return Error::unsupported(r_.name() + ": big-endian GGUF files are not supported");
    if (f.version != 2 && f.version != 3)
      return Error::unsupported(r_.name() + ": unknown GGUF version " + std::to_string(f.version));

    uint64_t n_tensors = 0, n_kv = 0;
    MS_TRY(r_.read_le(n_tensors, "the tensor count"));
    MS_TRY(r_.read_le(n_kv, "the metadata count"));
    // A key/value is at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least
    // 8 + 4 + 4 + 8 bytes.
    if (n_kv > kGgufMaxKeys)
      return r_.format_error("metadata count " + std::to_string(n_kv) + " is over the limit of " +
                             std::to_string(kGgufMaxKeys));
    if (n_tensors > kGgufMaxTensors)
      return r_.format_error("tensor count " + std::to_string(n_tensors) + " is over the limit of " +
                             std::to_string(kGgufMaxTensors));
    if (n_kv > r_.remaining() / 13)
      return r_.format_error("metadata count " + std::to_string(n_kv) + " cannot fit in the file");
    if (n_tensors > r_.remaining() / 24)
      return r_.format_error("tensor count " + std::to_string(n_tensors) +
                             " cannot fit in the file");

    f.metadata.set_origin(r_.name());
    std::unordered_set<std::string> keys;
    keys.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key;
      MS_TRY(read_name(key, "metadata key"));
      if (!keys.insert(key).second)
        return r_.format_error("duplicate metadata key '" + format::printable_name(key) + "'");
      uint32_t type = 0;
      MS_TRY(r_.read_le(type, "a metadata value type"));
      MS_ASSIGN_OR_RETURN(MetaValue v, read_value(type, 0, key));
      f.metadata.set(std::move(key), std::move(v));
    }

    if (const MetaValue* a = f.metadata.find("general.alignment")) {
      auto u = a->as_u64();
      if (!u || *u == 0 || *u > (1u << 30) || !std::has_single_bit(*u))
        return r_.format_error("general.alignment must be a power of two (got " +
                               a->to_display() + ")");
      f.alignment = static_cast<uint32_t>(*u);
    }

    f.tensors.reserve(n_tensors);
    std::unordered_set<std::string> names;
    names.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
      MS_ASSIGN_OR_RETURN(GgufTensorInfo t, read_tensor_info(f.alignment));
      if (!names.insert(t.name).second)
        return r_.format_error("duplicate tensor name '" + format::printable_name(t.name) + "'");
      f.tensors.push_back(std::move(t));
    }

    uint64_t header_end = r_.pos();
    f.data_offset = (header_end + f.alignment - 1) / f.alignment * f.alignment;
    // Without tensors there is no data section, and writers may omit the final padding: the
    // header is then the whole file.
    if (f.tensors.empty()) f.data_offset = std::min(f.data_offset, f.file_size);
    MS_TRY(check_layout(f));
    return f;
  }

 private:
  Status read_name(std::string& out, const char* what) {
    uint64_t len = 0;
    MS_TRY(r_.read_le(len, what));
    if (len > kGgufMaxNameBytes)
      return r_.format_error(std::string(what) + " at offset " + std::to_string(r_.pos() - 8) +
                             " is " + std::to_string(len) + " bytes long (limit " +
                             std::to_string(kGgufMaxNameBytes) + ")");
    MS_TRY(r_.read_string(out, len, what));
    if (!format::is_valid_utf8(out))
      return r_.format_error(std::string(what) + " '" + format::printable_name(out) +
                             "' is not valid UTF-8");
    return {};
  }

  Status read_string(std::string& out, const std::string& key) {
    uint64_t len = 0;
    MS_TRY(r_.read_le(len, "a string length"));
    if (len > kMaxStringBytes)
      return r_.format_error("string in '" + format::printable_name(key) + "' is " +
                             std::to_string(len) + " bytes long (limit " +
                             std::to_string(kMaxStringBytes) + ")");
    return r_.read_string(out, len, "a string value");
  }

  Result<MetaValue> read_value(uint32_t type, uint32_t depth, const std::string& key) {
    if (type > static_cast<uint32_t>(MetaType::f64))
      return r_.format_error("metadata '" + format::printable_name(key) +
                             "' has unknown value type " + std::to_string(type));
    auto t = static_cast<MetaType>(type);
    switch (t) {
      case MetaType::string: {
        std::string s;
        MS_TRY(read_string(s, key));
        return MetaValue::string(std::move(s));
      }
      case MetaType::array: return read_array(depth + 1, key);
      default: return read_scalar(t);
    }
  }

  Result<MetaValue> read_scalar(MetaType t) {
    uint8_t b[8] = {};
    MS_TRY(r_.read(b, meta_type_size(t), "a metadata value"));
    auto as = [&b](auto v) {
      std::memcpy(&v, b, sizeof v);
      return v;
    };
    switch (t) {
      case MetaType::u8: return MetaValue::u8(as(uint8_t{}));
      case MetaType::i8: return MetaValue::i8(as(int8_t{}));
      case MetaType::u16: return MetaValue::u16(as(uint16_t{}));
      case MetaType::i16: return MetaValue::i16(as(int16_t{}));
      case MetaType::u32: return MetaValue::u32(as(uint32_t{}));
      case MetaType::i32: return MetaValue::i32(as(int32_t{}));
      case MetaType::f32: return MetaValue::f32(as(float{}));
      case MetaType::boolean: return MetaValue::boolean(b[0] != 0);
      case MetaType::u64: return MetaValue::u64(as(uint64_t{}));
      case MetaType::i64: return MetaValue::i64(as(int64_t{}));
      case MetaType::f64: return MetaValue::f64(as(double{}));
      default: return Error::internal("read_scalar: not a scalar type");
    }
  }

  Result<MetaValue> read_array(uint32_t depth, const std::string& key) {
    if (depth > kGgufMaxArrayDepth)
      return r_.format_error("metadata '" + format::printable_name(key) + "' nests arrays deeper than " +
                             std::to_string(kGgufMaxArrayDepth));
    uint32_t elem = 0;
    uint64_t count = 0;
    MS_TRY(r_.read_le(elem, "an array element type"));
    MS_TRY(r_.read_le(count, "an array length"));
    if (elem > static_cast<uint32_t>(MetaType::f64))
      return r_.format_error("array '" + format::printable_name(key) +
                             "' has unknown element type " + std::to_string(elem));
    auto et = static_cast<MetaType>(elem);
    const uint64_t cap = et == MetaType::string  ? kGgufMaxStringArray
                         : et == MetaType::array ? kGgufMaxNestedArrays
                                                 : UINT64_MAX;
    if (count > cap)
      return r_.format_error("array '" + format::printable_name(key) + "' has " +
                             std::to_string(count) + " elements, over the limit of " +
                             std::to_string(cap) + " for arrays of " + meta_type_name(et));
    uint64_t min_elem = et == MetaType::string ? 8 : et == MetaType::array ? 12 : meta_type_size(et);
    if (count > r_.remaining() / min_elem)
      return r_.format_error("array '" + format::printable_name(key) + "' claims " +
                             std::to_string(count) + " elements of " + meta_type_name(et) +
                             ", more than the file can hold");
    if (et == MetaType::string) {
      std::vector<std::string> v(count);
      for (auto& s : v) MS_TRY(read_string(s, key));
      return MetaValue::string_array(std::move(v));
    }
    if (et == MetaType::array) {
      std::vector<MetaValue> items;
      items.reserve(count);
      for (uint64_t i = 0; i < count; ++i) {
        MS_ASSIGN_OR_RETURN(MetaValue v, read_array(depth + 1, key));
        items.push_back(std::move(v));
      }
      return MetaValue::array_of_arrays(std::move(items));
    }
    std::vector<uint8_t> raw(count * min_elem);
    MS_TRY(r_.read(raw.data(), raw.size(), "array elements"));
    return MetaValue::numeric_array(et, std::move(raw));
  }

  Result<GgufTensorInfo> read_tensor_info(uint32_t alignment) {
    GgufTensorInfo t;
    MS_TRY(read_name(t.name, "tensor name"));
    const std::string shown = "tensor '" + format::printable_name(t.name) + "'";
    if (t.name.empty()) return r_.format_error("a tensor has an empty name");
    uint32_t n_dims = 0;
    MS_TRY(r_.read_le(n_dims, "a tensor dimension count"));
    if (n_dims > kGgufMaxDims)
      return r_.format_error(shown + " has " + std::to_string(n_dims) + " dimensions (max 4)");
    t.dims.resize(n_dims);
    uint64_t elements = 1;
    for (auto& d : t.dims) {
      MS_TRY(r_.read_le(d, "a tensor dimension"));
      // ggml counts elements in int64_t.
      if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (d != 0 && elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / d))
        return r_.format_error(shown + " has dimensions whose product overflows");
      elements *= d;
    }
    uint32_t type = 0;
    MS_TRY(r_.read_le(type, "a tensor type"));
    auto traits = ggml_type_traits(type);
    if (!traits)
      return Error::unsupported(r_.name() + ": " + shown + " has unknown ggml type " +
                                std::to_string(type));
    t.type = static_cast<GgmlType>(type);
    MS_TRY(r_.read_le(t.offset, "a tensor offset"));
    uint64_t row = n_dims ? t.dims[0] : 1;
    auto row_bytes = ggml_row_bytes(t.type, row);
    if (!row_bytes && row % traits->block_elements == 0)
      return r_.format_error(shown + " byte size overflows");
    if (!row_bytes)
      return r_.format_error(shown + " of type " + std::string(traits->name) +
                             " has a row of " + std::to_string(row) +
                             " elements, not a multiple of the block size " +
                             std::to_string(traits->block_elements));
    uint64_t rows = elements == 0 ? 0 : elements / row;
    if (rows != 0 && *row_bytes > std::numeric_limits<uint64_t>::max() / rows)
      return r_.format_error(shown + " byte size overflows");
    t.size = *row_bytes * rows;
    if (t.offset % alignment != 0)
      return r_.format_error(shown + " offset " + std::to_string(t.offset) +
                             " is not a multiple of the alignment " + std::to_string(alignment));
    return t;
  }

  Status check_layout(const GgufFile& f) {
    if (f.tensors.empty()) return {};
    if (f.data_offset > f.file_size)
      return r_.format_error("truncated: data section would start at " +
                             std::to_string(f.data_offset) + " but the file has " +
                             std::to_string(f.file_size) + " bytes");
    uint64_t data_bytes = f.file_size - f.data_offset;
    for (const auto& t : f.tensors) {
      if (t.offset > data_bytes || t.size > data_bytes - t.offset)
        return r_.format_error("tensor '" + format::printable_name(t.name) + "' [" +
                               std::to_string(t.offset) + ", +" + std::to_string(t.size) +
                               ") extends past the end of the file (data section is " +
                               std::to_string(data_bytes) + " bytes)");
    }
    std::vector<size_t> order(f.tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return f.tensors[a].offset < f.tensors[b].offset;
    });
    for (size_t i = 1; i < order.size(); ++i) {
      const auto& prev = f.tensors[order[i - 1]];
      const auto& cur = f.tensors[order[i]];
      if (cur.offset < prev.offset + prev.size)
        return r_.format_error("tensors '" + format::printable_name(prev.name) + "' and '" +
                               format::printable_name(cur.name) + "' overlap");
    }
    return {};
  }

  HeaderReader& r_;
};

}  // namespace

uint64_t GgufTensorInfo::element_count() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

bool looks_like_gguf(std::span<const uint8_t> first4) {
  return first4.size() >= 4 && std::memcmp(first4.data(), "GGUF", 4) == 0;
}

Result<GgufFile> read_gguf(const std::filesystem::path& path) {
  MS_ASSIGN_OR_RETURN(format::HeaderReader r, format::HeaderReader::open(path));
  MS_ASSIGN_OR_RETURN(GgufFile f, GgufParser(r).parse());
  f.path = path;
  return f;
}

Result<GgufFile> parse_gguf(std::span<const uint8_t> bytes, uint64_t file_size,
                            std::string_view name) {
  format::HeaderReader r(bytes, file_size, std::string(name));
  MS_ASSIGN_OR_RETURN(GgufFile f, GgufParser(r).parse());
  f.path = std::string(name);
  return f;
}

}  // namespace modelswarm
