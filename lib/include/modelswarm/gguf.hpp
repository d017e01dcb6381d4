// GGUF reader (versions 2 and 3; little-endian). Reads the header only: magic, version, metadata
// key/values with their full types (nested arrays included), tensor infos, alignment and the
// data offset. Every length, count, offset and dimension is treated as hostile: allocations are
// bounded by the file size, and a malformed file yields a format error naming it.
//
// Layout: "GGUF" | u32 version | u64 n_tensors | u64 n_kv | kv... | tensor_info... | padding to
// general.alignment (default 32) | tensor data. A string is u64 length + bytes; an array is
// u32 element type + u64 count + elements; a tensor info is name, u32 n_dims (<= 4),
// u64 dims[n_dims] (innermost first), u32 ggml type, u64 offset relative to the data section.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/metadata.hpp"

namespace modelswarm {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr uint32_t kGgufMaxDims = 4;
// Parser limits (hostile input): nesting depth of arrays, bytes of a key or tensor name.
inline constexpr uint32_t kGgufMaxArrayDepth = 8;
inline constexpr uint64_t kGgufMaxNameBytes = 65536;
// Each in-memory entry costs several times its minimum file size (a string object is 32 bytes
// for an 8-byte empty string), so counts are capped too; real files are far below these.
inline constexpr uint64_t kGgufMaxTensors = 1 << 20;
inline constexpr uint64_t kGgufMaxKeys = 1 << 20;
inline constexpr uint64_t kGgufMaxStringArray = 1 << 24;  // vocabularies are ~10^5
inline constexpr uint64_t kGgufMaxNestedArrays = 1 << 20;

struct GgufTensorInfo {
  std::string name;           // valid UTF-8
  std::vector<uint64_t> dims; // innermost first (ne[0] = row length), 0..4 entries
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;        // relative to GgufFile::data_offset; a multiple of alignment
  uint64_t size = 0;          // bytes, from type and dims

  uint64_t element_count() const;
};

struct GgufFile {
  std::filesystem::path path;  // or the name given to parse_gguf
  uint32_t version = 3;
  uint64_t file_size = 0;
  uint32_t alignment = kGgufDefaultAlignment;  // general.alignment, a power of two
  uint64_t data_offset = 0;                    // absolute start of the data section (<= file_size)
  Metadata metadata;                           // every key, file order, with full types
  std::vector<GgufTensorInfo> tensors;         // file order

  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // Absolute file offset of a tensor's first byte.
  uint64_t absolute_offset(const GgufTensorInfo& t) const { return data_offset + t.offset; }
};

// Reads and checks the header of a GGUF file (does not read tensor data).
// Checks: magic; version 2 or 3 (1 and big-endian files: unsupported); counts bounded by the
// file size; value types 0..12; keys and tensor names valid UTF-8, unique; general.alignment a
// u32 power of two; n_dims <= 4; known ggml type; row length a whole number of blocks; element
// counts and sizes without overflow; offsets aligned; every tensor inside the file; no two
// tensors overlapping.
Result<GgufFile> read_gguf(const std::filesystem::path& path);

// Same, from the first bytes of a file held in memory. `file_size` is the size of the whole file
// (>= bytes.size()) for the bounds checks; pass bytes.size() when `bytes` is the whole file.
// `name` is used in error messages. Used by the fuzzer and by callers that already hold bytes.
Result<GgufFile> parse_gguf(std::span<const uint8_t> bytes, uint64_t file_size,
                            std::string_view name);

// True when `first4` starts with the GGUF magic.
bool looks_like_gguf(std::span<const uint8_t> first4);

}  // namespace modelswarm
