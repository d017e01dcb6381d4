// Typed key/value metadata of a model file. GGUF stores typed values (13 types, nested arrays);
// safetensors stores string -> string (`__metadata__`). Both land in the same Metadata so that
// callers (inspect, the release manifest, the inference engine) need one set of accessors.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm {

// Numbered as GGUF numbers its value types (gguf_type), so the ids can be written as-is.
enum class MetaType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
  string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};

// "u8", "string", ...; "?" for an id outside 0..12.
const char* meta_type_name(MetaType t);
// Bytes of one element of a fixed-size type; 0 for string and array.
uint32_t meta_type_size(MetaType t);

// One metadata value. Scalars are stored widened (u64 / i64 / f64); arrays keep their element
// type, and numeric arrays keep their elements as the little-endian bytes of the file so that a
// 150k-entry scores array is one memcpy, not 150k allocations.
class MetaValue {
 public:
  MetaValue() = default;

  static MetaValue u8(uint8_t v) { return uint_of(MetaType::u8, v); }
  static MetaValue u16(uint16_t v) { return uint_of(MetaType::u16, v); }
  static MetaValue u32(uint32_t v) { return uint_of(MetaType::u32, v); }
  static MetaValue u64(uint64_t v) { return uint_of(MetaType::u64, v); }
  static MetaValue i8(int8_t v) { return int_of(MetaType::i8, v); }
  static MetaValue i16(int16_t v) { return int_of(MetaType::i16, v); }
  static MetaValue i32(int32_t v) { return int_of(MetaType::i32, v); }
  static MetaValue i64(int64_t v) { return int_of(MetaType::i64, v); }
  static MetaValue f32(float v);
  static MetaValue f64(double v);
  static MetaValue boolean(bool v) { return uint_of(MetaType::boolean, v ? 1 : 0); }
  static MetaValue string(std::string v);
  static MetaValue string_array(std::vector<std::string> v);
  static MetaValue f32_array(std::span<const float> v);
  static MetaValue i32_array(std::span<const int32_t> v);
  // REQUIRES: elem is a fixed-size type and raw.size() is a multiple of its size.
  static MetaValue numeric_array(MetaType elem, std::vector<uint8_t> raw_le);
  // An array whose elements are arrays; REQUIRES: every element is an array.
  static MetaValue array_of_arrays(std::vector<MetaValue> items);

  MetaType type() const { return type_; }
  bool is_array() const { return type_ == MetaType::array; }
  bool is_integer() const;  // u8..u64, i8..i64 (not bool)

  // Scalar views; nullopt when the type does not fit. Integers convert between widths when the
  // value is representable; floats accept f32/f64 and integers.
  std::optional<uint64_t> as_u64() const;
  std::optional<int64_t> as_i64() const;
  std::optional<double> as_f64() const;
  // The value as the decimal a person wrote: an f32 1e-5 gives 1e-05 exactly, where as_f64()
  // gives 9.99999974737875e-06 (the float's exact value). Same as as_f64() for other types.
  std::optional<double> as_decimal() const;
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;  // nullptr unless type() == string

  // Arrays (REQUIRES: is_array() for the meaning of the results; otherwise empty/zero).
  MetaType elem_type() const { return elem_; }
  uint64_t size() const;
  const std::vector<std::string>& strings() const { return strings_; }  // elem string
  const std::vector<MetaValue>& items() const { return items_; }        // elem array
  std::span<const uint8_t> raw() const { return raw_; }                 // fixed-size elems, LE
  // Element i of a numeric array, widened; REQUIRES: i < size(), numeric elem_type().
  double number_at(uint64_t i) const;

  // Short human rendering: scalars in full, strings quoted (truncated past `max_chars`),
  // arrays as "[string × 32000]" plus the first few elements.
  std::string to_display(size_t max_chars = 60) const;

  bool operator==(const MetaValue& o) const = default;

 private:
  static MetaValue uint_of(MetaType t, uint64_t v);
  static MetaValue int_of(MetaType t, int64_t v);

  MetaType type_ = MetaType::u8;
  uint64_t u_ = 0;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  MetaType elem_ = MetaType::u8;
  std::vector<uint8_t> raw_;
  std::vector<std::string> strings_;
  std::vector<MetaValue> items_;
};

// Ordered key -> value list (file order, which writers keep for byte-identical output).
// Getters return a format error naming `origin()` and the key when the key is missing or has
// an incompatible type, so the engine can propagate them directly.
class Metadata {
 public:
  Metadata() = default;
  explicit Metadata(std::string origin) : origin_(std::move(origin)) {}

  const std::string& origin() const { return origin_; }
  void set_origin(std::string o) { origin_ = std::move(o); }

  // Replaces an existing key's value in place, else appends.
  void set(std::string key, MetaValue v);
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  const MetaValue* find(std::string_view key) const;
  const std::vector<std::pair<std::string, MetaValue>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  Result<std::string> get_string(std::string_view key) const;
  Result<uint32_t> get_u32(std::string_view key) const;  // any integer type whose value fits
  Result<uint64_t> get_u64(std::string_view key) const;
  Result<int64_t> get_i64(std::string_view key) const;
  Result<float> get_f32(std::string_view key) const;     // f32, f64 or an integer
  Result<bool> get_bool(std::string_view key) const;
  // Views into the stored array: valid while this Metadata lives and is not modified.
  Result<std::span<const std::string>> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_f32_array(std::string_view key) const;    // f32/f64 elems
  Result<std::vector<int32_t>> get_i32_array(std::string_view key) const;  // any int elems that fit

  // Defaults for optional keys; a present key of the wrong type still yields the default.
  std::string string_or(std::string_view key, std::string def) const;
  uint32_t u32_or(std::string_view key, uint32_t def) const;
  float f32_or(std::string_view key, float def) const;

 private:
  Error missing(std::string_view key) const;
  Error wrong_type(std::string_view key, const char* wanted) const;

  std::string origin_;
  std::vector<std::pair<std::string, MetaValue>> entries_;
};

}  // namespace modelswarm
