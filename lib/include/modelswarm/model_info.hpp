// A format-independent description of a model on disk: which files, where each tensor's bytes
// are, and the metadata. Built from headers only; tensor data is located, never read.
// Every field comes from an untrusted file but has been checked: tensors lie inside their file,
// do not overlap, and their sizes agree with dtype x shape.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/metadata.hpp"

namespace modelswarm {

enum class ModelFormat { gguf, safetensors };
const char* model_format_name(ModelFormat f);  // "gguf" / "safetensors"

struct TensorInfo {
  std::string name;
  // GGUF: the ggml type name ("Q4_0", "F16", "Q6_K", ...). safetensors: the spec's dtype
  // string ("BF16", "F8_E4M3", "BOOL", "U8", ...).
  std::string dtype;
  // The ggml type: always set for GGUF; for safetensors only when the dtype has the same
  // element encoding in ggml (F32, F16, BF16, F64, I8, I16, I32, I64).
  std::optional<GgmlType> ggml_type;
  // Dimensions IN THE ORDER THE FILE STORES THEM, which differs between formats:
  //   GGUF:        innermost (contiguous) dimension first — ne[0], ne[1], ...; a [vocab x dim]
  //                embedding is stored as {dim, vocab}.
  //   safetensors: outermost first (row-major, PyTorch order) — the same matrix is {vocab, dim}.
  // Use row_major_shape() for an order that is the same for both formats.
  std::vector<uint64_t> shape;
  uint64_t offset = 0;      // absolute byte offset of the first byte in files[file_index]
  uint64_t size = 0;        // bytes
  uint32_t file_index = 0;  // index into ModelInfo::files

  uint64_t element_count() const;  // product of shape (1 for a 0-d tensor); checked at read
};

struct ModelInfo {
  ModelFormat format = ModelFormat::gguf;
  uint32_t gguf_version = 0;    // GGUF only: 2 or 3
  uint32_t gguf_alignment = 0;  // GGUF only: general.alignment or the default 32
  // Model files, in a stable order (the one file; or shards sorted by name). Paths as given /
  // found (directory + file name), not canonicalised.
  std::vector<std::filesystem::path> files;
  // Per file (same index as `files`): bytes before the data section — GGUF: the aligned data
  // offset; safetensors: 8 + JSON header length.
  std::vector<uint64_t> header_sizes;
  // Per file: size in bytes when read.
  std::vector<uint64_t> file_sizes;
  // GGUF: every key/value of the header (typed). safetensors: `__metadata__` (strings) of every
  // shard (first one wins on a clash), plus, when a config.json sits next to the weights, its
  // top-level scalar entries as "config.<key>" (e.g. config.hidden_size, config.model_type) and
  // config.architectures[0] as "config.architecture".
  Metadata metadata;
  // GGUF: file order. safetensors: by file, then by offset.
  std::vector<TensorInfo> tensors;

  const TensorInfo* find_tensor(std::string_view name) const;
  uint64_t parameter_count() const;  // sum of element_count()
  uint64_t tensor_bytes() const;     // sum of size
  // GGUF: general.architecture; safetensors: config.model_type (or "" when unknown).
  std::string architecture() const;
  // Shape outermost-first for either format (GGUF dims reversed, safetensors as is).
  std::vector<uint64_t> row_major_shape(const TensorInfo& t) const;
};

// Reads the headers of a model:
//   - a .gguf file;
//   - a .safetensors file;
//   - a directory holding model.safetensors.index.json (or exactly one *.safetensors.index.json)
//     -> every shard it names, checked against the index's weight_map;
//   - a directory holding exactly one .safetensors file, or else exactly one .gguf file.
// Format is decided by content (magic / header), not by extension. Errors: io (cannot open or
// read), format (malformed), unsupported (e.g. GGUF v1, big-endian GGUF), invalid_argument
// (a directory with no or ambiguous model files).
Result<ModelInfo> read_model_info(const std::filesystem::path& path);

}  // namespace modelswarm
