// safetensors reader: u64 little-endian header length N, N bytes of JSON, then the data section.
// JSON: { "__metadata__": {string: string}, "<tensor>": {"dtype": "F16", "shape": [..],
// "data_offsets": [begin, end]}, ... } with offsets relative to the data section.
// Checks, all hostile-input safe: N <= 100,000,000 (the spec's limit) and within the file; valid
// UTF-8 JSON with bounded nesting; no duplicate keys; known dtype; begin <= end; bytes == elements
// x dtype bits / 8; tensors, sorted by offset, tile the data section exactly (no overlap, no gap,
// the last one ends at end of file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"

namespace modelswarm {

inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;
inline constexpr const char* kSafetensorsIndexName = "model.safetensors.index.json";

struct SafetensorsDtypeInfo {
  std::string_view name;  // as written in the header: "F32", "F8_E4M3", "BOOL", ...
  uint32_t bits;          // per element (F4 is 4, F6_* are 6)
  std::optional<GgmlType> ggml;  // same element encoding in ggml, when there is one
};
// The dtypes of the current spec: BOOL F4 F6_E2M3 F6_E3M2 U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 I16 U16
// F16 BF16 I32 U32 F32 C64 F64 I64 U64. nullopt for anything else.
std::optional<SafetensorsDtypeInfo> safetensors_dtype(std::string_view name);

struct SafetensorsTensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;  // outermost first, as stored
  uint64_t begin = 0;           // relative to the data section
  uint64_t end = 0;

  uint64_t size() const { return end - begin; }
  uint64_t element_count() const;
};

struct SafetensorsFile {
  std::filesystem::path path;  // or the name given to parse_safetensors_header
  uint64_t file_size = 0;
  uint64_t header_size = 0;    // N, the JSON length
  uint64_t data_offset = 0;    // 8 + N
  std::vector<std::pair<std::string, std::string>> metadata;  // __metadata__, sorted by key
  std::vector<SafetensorsTensor> tensors;                     // sorted by begin

  const SafetensorsTensor* find_tensor(std::string_view name) const;
};

Result<SafetensorsFile> read_safetensors(const std::filesystem::path& path);

// Parses a JSON header already read; `file_size` is the size of the whole file.
Result<SafetensorsFile> parse_safetensors_header(std::string_view json, uint64_t file_size,
                                                 std::string_view name);
// Same from a file's first bytes (8-byte length + JSON); `file_size` as above.
Result<SafetensorsFile> parse_safetensors(std::span<const uint8_t> bytes, uint64_t file_size,
                                          std::string_view name);

struct SafetensorsIndex {
  std::filesystem::path path;
  std::vector<std::pair<std::string, std::string>> metadata;  // "metadata" object, values as JSON text unless strings
  std::map<std::string, std::string> weight_map;              // tensor -> shard file name
  std::vector<std::string> shards;                            // distinct shard names, sorted
};

// Reads model.safetensors.index.json. Shard names must be plain file names (no directory parts,
// no "..") so that an index cannot point outside its directory.
Result<SafetensorsIndex> read_safetensors_index(const std::filesystem::path& path);
Result<SafetensorsIndex> parse_safetensors_index(std::string_view json, std::string_view name);

}  // namespace modelswarm
