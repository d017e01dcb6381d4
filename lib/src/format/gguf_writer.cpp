#include "modelswarm/gguf_writer.hpp"

#include <bit>
#include <cstring>
#include <unordered_set>

#include "format/output_file.hpp"
#include "format/utf8.hpp"

namespace modelswarm {

namespace {

template <class T>
void put(std::vector<uint8_t>& out, T v) {
  size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  size_t at = out.size();
  out.resize(at + s.size());
  if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
}

uint64_t padded(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

void append_gguf_value(std::vector<uint8_t>& out, const MetaValue& v) {
  switch (v.type()) {
    case MetaType::u8: put<uint8_t>(out, static_cast<uint8_t>(*v.as_u64())); break;
    case MetaType::u16: put<uint16_t>(out, static_cast<uint16_t>(*v.as_u64())); break;
    case MetaType::u32: put<uint32_t>(out, static_cast<uint32_t>(*v.as_u64())); break;
    case MetaType::u64: put<uint64_t>(out, *v.as_u64()); break;
    case MetaType::i8: put<int8_t>(out, static_cast<int8_t>(*v.as_i64())); break;
    case MetaType::i16: put<int16_t>(out, static_cast<int16_t>(*v.as_i64())); break;
    case MetaType::i32: put<int32_t>(out, static_cast<int32_t>(*v.as_i64())); break;
    case MetaType::i64: put<int64_t>(out, *v.as_i64()); break;
    case MetaType::f32: put<float>(out, static_cast<float>(*v.as_f64())); break;
    case MetaType::f64: put<double>(out, *v.as_f64()); break;
    case MetaType::boolean: put<uint8_t>(out, *v.as_bool() ? 1 : 0); break;
    case MetaType::string: put_string(out, *v.as_string()); break;
    case MetaType::array:
      put<uint32_t>(out, static_cast<uint32_t>(v.elem_type()));
      put<uint64_t>(out, v.size());
      if (v.elem_type() == MetaType::string) {
        for (const auto& s : v.strings()) put_string(out, s);
      } else if (v.elem_type() == MetaType::array) {
        for (const auto& item : v.items()) append_gguf_value(out, item);
      } else {
        out.insert(out.end(), v.raw().begin(), v.raw().end());
      }
      break;
  }
}

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {}

GgufWriter::~GgufWriter() = default;

Status GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> dims) {
  if (out_) return Error::internal("GgufWriter::add_tensor after begin()");
  if (name.empty() || !format::is_valid_utf8(name))
    return Error::invalid_argument("tensor name '" + format::printable_name(name) +
                                   "' is empty or not UTF-8");
  for (const auto& t : tensors_)
    if (t.name == name) return Error::invalid_argument("duplicate tensor name '" + name + "'");
  if (dims.size() > kGgufMaxDims)
    return Error::invalid_argument("tensor '" + name + "' has more than 4 dimensions");
  auto traits = ggml_type_traits(static_cast<uint32_t>(type));
  if (!traits) return Error::invalid_argument("tensor '" + name + "' has an unknown ggml type");
  uint64_t elements = 1;
  for (uint64_t d : dims) {
    if (d != 0 && elements > (uint64_t{1} << 62) / d)
      return Error::invalid_argument("tensor '" + name + "' is too large");
    elements *= d;
  }
  uint64_t row = dims.empty() ? 1 : dims[0];
  auto row_bytes = ggml_row_bytes(type, row);
  if (!row_bytes)
    return Error::invalid_argument("tensor '" + name + "': row of " + std::to_string(row) +
                                   " is not a multiple of the " + std::string(traits->name) +
                                   " block size");
  GgufTensorInfo t;
  t.name = std::move(name);
  t.type = type;
  t.dims = std::move(dims);
  t.size = elements == 0 ? 0 : *row_bytes * (elements / row);
  t.offset = data_size_;
  data_size_ += padded(t.size, alignment_);
  tensors_.push_back(std::move(t));
  return {};
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
  std::vector<uint8_t> out;
  put<uint32_t>(out, kGgufMagic);
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  bool add_alignment = alignment_ != kGgufDefaultAlignment && !metadata_.contains("general.alignment");
  put<uint64_t>(out, metadata_.size() + (add_alignment ? 1 : 0));
  auto put_kv = [&out](const std::string& key, const MetaValue& v) {
    put_string(out, key);
    put<uint32_t>(out, static_cast<uint32_t>(v.type()));
    append_gguf_value(out, v);
  };
  if (add_alignment) put_kv("general.alignment", MetaValue::u32(alignment_));
  for (const auto& [k, v] : metadata_.entries()) put_kv(k, v);
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) put<uint64_t>(out, d);
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, t.offset);
  }
  out.resize(padded(out.size(), alignment_), 0);
  return out;
}

uint64_t GgufWriter::data_offset() const { return header_bytes().size(); }

uint64_t GgufWriter::file_size() const { return data_offset() + data_size_; }

Status GgufWriter::begin(const std::filesystem::path& path) {
  if (out_) return Error::internal("GgufWriter::begin called twice");
  if (alignment_ == 0 || !std::has_single_bit(alignment_))
    return Error::invalid_argument("GGUF alignment must be a power of two");
  if (const MetaValue* a = metadata_.find("general.alignment")) {
    if (a->type() != MetaType::u32 || a->as_u64() != alignment_)
      return Error::invalid_argument("metadata general.alignment disagrees with the writer's alignment");
  }
  path_ = path;
  out_ = std::make_unique<format::OutputFile>();
  MS_TRY(out_->open(path));
  MS_TRY(out_->write(header_bytes()));
  current_ = 0;
  written_in_current_ = 0;
  // Skip zero-byte tensors up front so write_data always points at a tensor that wants bytes.
  while (current_ < tensors_.size() && tensors_[current_].size == 0) ++current_;
  return {};
}

Status GgufWriter::write_data(std::span<const uint8_t> bytes) {
  if (!out_ || !out_->is_open()) return Error::internal("GgufWriter::write_data before begin()");
  while (!bytes.empty()) {
    if (current_ >= tensors_.size())
      return Error::invalid_argument(path_.string() + ": more tensor data than declared");
    const auto& t = tensors_[current_];
    uint64_t take = std::min<uint64_t>(bytes.size(), t.size - written_in_current_);
    MS_TRY(out_->write(bytes.data(), take));
    bytes = bytes.subspan(take);
    written_in_current_ += take;
    if (written_in_current_ == t.size) {
      MS_TRY(out_->write_zeros(padded(t.size, alignment_) - t.size));
      written_in_current_ = 0;
      ++current_;
      while (current_ < tensors_.size() && tensors_[current_].size == 0) ++current_;
    }
  }
  return {};
}

Status GgufWriter::finish() {
  if (!out_ || !out_->is_open()) return Error::internal("GgufWriter::finish before begin()");
  if (current_ < tensors_.size()) {
    out_->abandon();
    return Error::invalid_argument(path_.string() + ": tensor '" + tensors_[current_].name +
                                   "' and later ones were not written");
  }
  return out_->commit();
}

}  // namespace modelswarm
