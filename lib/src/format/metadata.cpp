#include "modelswarm/metadata.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace modelswarm {

const char* meta_type_name(MetaType t) {
  switch (t) {
    case MetaType::u8: return "u8";
    case MetaType::i8: return "i8";
    case MetaType::u16: return "u16";
    case MetaType::i16: return "i16";
    case MetaType::u32: return "u32";
    case MetaType::i32: return "i32";
    case MetaType::f32: return "f32";
    case MetaType::boolean: return "bool";
    case MetaType::string: return "string";
    case MetaType::array: return "array";
    case MetaType::u64: return "u64";
    case MetaType::i64: return "i64";
    case MetaType::f64: return "f64";
  }
  return "?";
}

uint32_t meta_type_size(MetaType t) {
  switch (t) {
    case MetaType::u8: case MetaType::i8: case MetaType::boolean: return 1;
    case MetaType::u16: case MetaType::i16: return 2;
    case MetaType::u32: case MetaType::i32: case MetaType::f32: return 4;
    case MetaType::u64: case MetaType::i64: case MetaType::f64: return 8;
    case MetaType::string: case MetaType::array: return 0;
  }
  return 0;
}

MetaValue MetaValue::uint_of(MetaType t, uint64_t v) {
  MetaValue m;
  m.type_ = t;
  m.u_ = v;
  return m;
}

MetaValue MetaValue::int_of(MetaType t, int64_t v) {
  MetaValue m;
  m.type_ = t;
  m.i_ = v;
  return m;
}

MetaValue MetaValue::f32(float v) {
  MetaValue m;
  m.type_ = MetaType::f32;
  m.f_ = v;
  return m;
}

MetaValue MetaValue::f64(double v) {
  MetaValue m;
  m.type_ = MetaType::f64;
  m.f_ = v;
  return m;
}

MetaValue MetaValue::string(std::string v) {
  MetaValue m;
  m.type_ = MetaType::string;
  m.s_ = std::move(v);
  return m;
}

MetaValue MetaValue::string_array(std::vector<std::string> v) {
  MetaValue m;
  m.type_ = MetaType::array;
  m.elem_ = MetaType::string;
  m.strings_ = std::move(v);
  return m;
}

MetaValue MetaValue::f32_array(std::span<const float> v) {
  std::vector<uint8_t> raw(v.size_bytes());
  if (!v.empty()) std::memcpy(raw.data(), v.data(), raw.size());
  return numeric_array(MetaType::f32, std::move(raw));
}

MetaValue MetaValue::i32_array(std::span<const int32_t> v) {
  std::vector<uint8_t> raw(v.size_bytes());
  if (!v.empty()) std::memcpy(raw.data(), v.data(), raw.size());
  return numeric_array(MetaType::i32, std::move(raw));
}

MetaValue MetaValue::numeric_array(MetaType elem, std::vector<uint8_t> raw_le) {
  MetaValue m;
  m.type_ = MetaType::array;
  m.elem_ = elem;
  m.raw_ = std::move(raw_le);
  return m;
}

MetaValue MetaValue::array_of_arrays(std::vector<MetaValue> items) {
  MetaValue m;
  m.type_ = MetaType::array;
  m.elem_ = MetaType::array;
  m.items_ = std::move(items);
  return m;
}

bool MetaValue::is_integer() const {
  switch (type_) {
    case MetaType::u8: case MetaType::u16: case MetaType::u32: case MetaType::u64:
    case MetaType::i8: case MetaType::i16: case MetaType::i32: case MetaType::i64: return true;
    default: return false;
  }
}

namespace {
bool is_unsigned(MetaType t) {
  return t == MetaType::u8 || t == MetaType::u16 || t == MetaType::u32 || t == MetaType::u64;
}
bool is_signed(MetaType t) {
  return t == MetaType::i8 || t == MetaType::i16 || t == MetaType::i32 || t == MetaType::i64;
}
}  // namespace

std::optional<uint64_t> MetaValue::as_u64() const {
  if (is_unsigned(type_)) return u_;
  if (is_signed(type_) && i_ >= 0) return static_cast<uint64_t>(i_);
  return std::nullopt;
}

std::optional<int64_t> MetaValue::as_i64() const {
  if (is_signed(type_)) return i_;
  if (is_unsigned(type_) && u_ <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(u_);
  return std::nullopt;
}

std::optional<double> MetaValue::as_f64() const {
  if (type_ == MetaType::f32 || type_ == MetaType::f64) return f_;
  if (is_unsigned(type_)) return static_cast<double>(u_);
  if (is_signed(type_)) return static_cast<double>(i_);
  return std::nullopt;
}

std::optional<double> MetaValue::as_decimal() const {
  if (type_ != MetaType::f32) return as_f64();
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<float>(f_));
  double d = 0;
  std::from_chars(buf, r.ptr, d);
  return d;
}

std::optional<bool> MetaValue::as_bool() const {
  if (type_ == MetaType::boolean) return u_ != 0;
  return std::nullopt;
}

const std::string* MetaValue::as_string() const {
  return type_ == MetaType::string ? &s_ : nullptr;
}

uint64_t MetaValue::size() const {
  if (type_ != MetaType::array) return 0;
  if (elem_ == MetaType::string) return strings_.size();
  if (elem_ == MetaType::array) return items_.size();
  uint32_t es = meta_type_size(elem_);
  return es ? raw_.size() / es : 0;
}

double MetaValue::number_at(uint64_t i) const {
  const uint8_t* p = raw_.data() + i * meta_type_size(elem_);
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (elem_) {
    case MetaType::u8: return load(uint8_t{});
    case MetaType::i8: return load(int8_t{});
    case MetaType::u16: return load(uint16_t{});
    case MetaType::i16: return load(int16_t{});
    case MetaType::u32: return load(uint32_t{});
    case MetaType::i32: return load(int32_t{});
    case MetaType::f32: return load(float{});
    case MetaType::boolean: return load(uint8_t{}) != 0;
    case MetaType::u64: return static_cast<double>(load(uint64_t{}));
    case MetaType::i64: return static_cast<double>(load(int64_t{}));
    case MetaType::f64: return load(double{});
    default: return 0;
  }
}

namespace {
// u64/i64 array elements read as themselves: their double (number_at) converted back to an
// integer is lossy and, past long long's range, undefined.
std::string int64_text(const uint8_t* p, MetaType t) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return t == MetaType::u64 ? std::to_string(v) : std::to_string(static_cast<int64_t>(v));
}

std::string quote(const std::string& s, size_t max_chars) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i >= max_chars) {
      out += "...";
      break;
    }
    char c = s[i];
    if (c == '\n') out += "\\n";
    else if (c == '"') out += "\\\"";
    else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
    else out += c;
  }
  return out + "\"";
}

// Shortest text that reads back as the same value in the value's own precision, so an f32
// 1e-5 shows as "1e-05", not "9.99999975e-06".
std::string number_text(double v, MetaType t) {
  char buf[64];
  auto r = t == MetaType::f32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                              : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
}  // namespace

std::string MetaValue::to_display(size_t max_chars) const {
  switch (type_) {
    case MetaType::string: return quote(s_, max_chars);
    case MetaType::boolean: return u_ ? "true" : "false";
    case MetaType::f32: case MetaType::f64: return number_text(f_, type_);
    case MetaType::array: break;
    default: return is_unsigned(type_) ? std::to_string(u_) : std::to_string(i_);
  }
  std::string out = "[";
  out += meta_type_name(elem_);
  out += " x ";
  out += std::to_string(size());
  out += "]";
  constexpr uint64_t kShow = 4;
  uint64_t n = std::min<uint64_t>(size(), kShow);
  if (n == 0 || elem_ == MetaType::array) return out;
  out += " ";
  for (uint64_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    if (elem_ == MetaType::string) out += quote(strings_[i], 20);
    else if (elem_ == MetaType::f32 || elem_ == MetaType::f64) out += number_text(number_at(i), elem_);
    else if (elem_ == MetaType::u64 || elem_ == MetaType::i64) out += int64_text(raw_.data() + i * 8, elem_);
    else out += std::to_string(static_cast<long long>(number_at(i)));  // 32 bits or fewer: exact
  }
  if (size() > n) out += ", ...";
  return out;
}

// ---- Metadata ----

void Metadata::set(std::string key, MetaValue v) {
  for (auto& [k, old] : entries_) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(v));
}

const MetaValue* Metadata::find(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

Error Metadata::missing(std::string_view key) const {
  return Error::format(origin_ + ": metadata key '" + std::string(key) + "' is missing");
}

Error Metadata::wrong_type(std::string_view key, const char* wanted) const {
  const MetaValue* v = find(key);
  std::string got = meta_type_name(v->type());
  if (v->is_array()) got = std::string("array of ") + meta_type_name(v->elem_type());
  return Error::format(origin_ + ": metadata key '" + std::string(key) + "' is " + got +
                       ", expected " + wanted);
}

Result<std::string> Metadata::get_string(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) return missing(key);
  if (!v->as_string()) return wrong_type(key, "string");
  return *v->as_string();
}

Result<uint64_t> Metadata::get_u64(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) return missing(key);
  auto u = v->as_u64();
  if (!u) return wrong_type(key, "a non-negative integer");
  return *u;
}

Result<uint32_t> Metadata::get_u32(std::string_view key) const {
  MS_ASSIGN_OR_RETURN(uint64_t u, get_u64(key));
  if (u > std::numeric_limits<uint32_t>::max())
    return Error::format(origin_ + ": metadata key '" + std::string(key) + "' = " +
                         std::to_string(u) + " does not fit in 32 bits");
  return static_cast<uint32_t>(u);
}

Result<int64_t> Metadata::get_i64(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) return missing(key);
  auto i = v->as_i64();
  if (!i) return wrong_type(key, "an integer");
  return *i;
}

Result<float> Metadata::get_f32(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) return missing(key);
  auto f = v->as_f64();
  if (!f) return wrong_type(key, "a number");
  return static_cast<float>(*f);
}

Result<bool> Metadata::get_bool(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) return missing(key);
  auto b = v->as_bool();
  if (!b) return wrong_type(key, "bool");
  return *b;
}

Result<std::span<const std::string>> Metadata::get_string_array(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) return missing(key);
  if (!v->is_array() || v->elem_type() != MetaType::string)
    return wrong_type(key, "array of string");
  return std::span<const std::string>(v->strings());
}

Result<std::vector<float>> Metadata::get_f32_array(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) return missing(key);
  if (!v->is_array() || (v->elem_type() != MetaType::f32 && v->elem_type() != MetaType::f64))
    return wrong_type(key, "array of f32");
  std::vector<float> out(v->size());
  if (v->elem_type() == MetaType::f32) {
    if (!out.empty()) std::memcpy(out.data(), v->raw().data(), out.size() * sizeof(float));
  } else {
    for (uint64_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(v->number_at(i));
  }
  return out;
}

Result<std::vector<int32_t>> Metadata::get_i32_array(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) return missing(key);
  MetaType e = v->elem_type();
  if (!v->is_array() || !(is_signed(e) || is_unsigned(e)))
    return wrong_type(key, "array of i32");
  std::vector<int32_t> out(v->size());
  if (e == MetaType::i32) {
    if (!out.empty()) std::memcpy(out.data(), v->raw().data(), out.size() * sizeof(int32_t));
    return out;
  }
  for (uint64_t i = 0; i < out.size(); ++i) {
    double d = v->number_at(i);
    if (d < std::numeric_limits<int32_t>::min() || d > std::numeric_limits<int32_t>::max())
      return Error::format(origin_ + ": metadata key '" + std::string(key) + "' element " +
                           std::to_string(i) + " does not fit in 32 bits");
    out[i] = static_cast<int32_t>(d);
  }
  return out;
}

std::string Metadata::string_or(std::string_view key, std::string def) const {
  const MetaValue* v = find(key);
  return v && v->as_string() ? *v->as_string() : def;
}

uint32_t Metadata::u32_or(std::string_view key, uint32_t def) const {
  auto r = get_u32(key);
  return r.ok() ? r.value() : def;
}

float Metadata::f32_or(std::string_view key, float def) const {
  auto r = get_f32(key);
  return r.ok() ? r.value() : def;
}

}  // namespace modelswarm
