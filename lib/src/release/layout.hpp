// Internal: how a release directory's files are found and cut into chunks.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/manifest.hpp"

namespace modelswarm::detail {

// One tensor's bytes in a model file, as the format readers report it.
struct TensorExtent {
  std::string name;
  uint64_t offset = 0;  // absolute
  uint64_t size = 0;
  std::string dtype;
  std::vector<uint64_t> shape;
};

struct ModelLayout {
  FileFormat format = FileFormat::other;
  uint64_t header_size = 0;  // bytes before the first tensor's data, padding included
  std::vector<TensorExtent> tensors;
};

// Reads the tensor table of a GGUF or safetensors file (by magic / extension). Non-model files
// give format `other`. A file that claims to be a model but cannot be read is a format error.
Result<ModelLayout> read_layout(const std::filesystem::path& path, uint64_t file_size);

// Chunks (hashes unset) for a file: a header chunk, then one per tensor in offset order, each
// extended over the padding up to the next tensor (the last one up to the end of the file).
// Overlapping tensors or tensors outside the file are a format error naming `display`.
Result<std::vector<Chunk>> plan_chunks(const ModelLayout& layout, uint64_t file_size,
                                       const std::string& display);

// An entry found while walking a release directory.
struct TreeEntry {
  std::string path;  // relative, '/'-separated
  enum class Type { regular, symlink, other } type;
  uint64_t size = 0;
};

// Every non-directory entry under `dir` except the .modelswarm/ directory, sorted by path;
// symlinks are reported, never followed.
Result<std::vector<TreeEntry>> walk_release_dir(const std::filesystem::path& dir);

}  // namespace modelswarm::detail
