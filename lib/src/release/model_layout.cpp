#include <cstring>

#include "modelswarm/model_info.hpp"
#include "release/layout.hpp"
#include "util/file_io.hpp"

namespace modelswarm::detail {

namespace {

// GGUF by magic; safetensors by extension (the format has no magic). Anything else is chunked
// as a whole, so a stray README never fails a pack.
FileFormat sniff(const std::filesystem::path& path, uint64_t size) {
  if (size >= 4) {
    if (auto fd = file_io::open_read(path); fd.ok()) {
      uint8_t magic[4] = {};
      auto n = file_io::pread_upto(fd->get(), magic, 0, path.string());
      if (n.ok() && *n == 4 && std::memcmp(magic, "GGUF", 4) == 0) return FileFormat::gguf;
    }
  }
  if (path.extension() == ".safetensors") return FileFormat::safetensors;
  return FileFormat::other;
}

}  // namespace

Result<ModelLayout> read_layout(const std::filesystem::path& path, uint64_t file_size) {
  ModelLayout layout;
  layout.format = sniff(path, file_size);
  if (layout.format == FileFormat::other) return layout;
  MS_ASSIGN_OR_RETURN(ModelInfo info, read_model_info(path));
  if (info.files.size() != 1 || info.file_sizes[0] != file_size)
    return Error::format(path.string() + ": changed while being read");
  layout.header_size = info.header_sizes[0];
  for (const auto& t : info.tensors) layout.tensors.push_back({t.name, t.offset, t.size, t.dtype, t.shape});
  return layout;
}

}  // namespace modelswarm::detail
