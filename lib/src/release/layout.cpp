#include "release/layout.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

namespace modelswarm::detail {

namespace fs = std::filesystem;

Result<std::vector<Chunk>> plan_chunks(const ModelLayout& layout, uint64_t file_size,
                                       const std::string& display) {
  std::vector<Chunk> chunks;
  if (layout.format == FileFormat::other) {
    chunks.push_back(Chunk{std::string(kWholeFileChunkName), 0, file_size, {}, {}, {}});
    return chunks;
  }
  std::vector<const TensorExtent*> order;
  for (const auto& t : layout.tensors) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->size < b->size;
  });
  uint64_t header_end = order.empty() ? file_size : std::min(layout.header_size, order.front()->offset);
  if (header_end > file_size) return Error::format(display + ": header runs past the end of the file");
  chunks.push_back(Chunk{std::string(kHeaderChunkName), 0, header_end, {}, {}, {}});
  for (size_t i = 0; i < order.size(); ++i) {
    const TensorExtent& t = *order[i];
    if (t.offset > file_size || t.size > file_size - t.offset)
      return Error::format(display + ": tensor \"" + t.name + "\" lies outside the file");
    uint64_t end = i + 1 < order.size() ? order[i + 1]->offset : file_size;
    if (t.offset + t.size > end)
      return Error::format(display + ": tensor \"" + t.name + "\" overlaps the next tensor");
    if (t.name == kHeaderChunkName || t.name == kWholeFileChunkName)
      return Error::format(display + ": a tensor is named \"" + t.name + "\", which is reserved");
    // Padding between tensors belongs to the tensor before it, so every byte has one chunk.
    chunks.push_back(Chunk{t.name, t.offset, end - t.offset, {}, t.dtype, t.shape});
  }
  // The header chunk also absorbs any gap before the first tensor.
  if (!order.empty()) chunks[0].size = order.front()->offset;
  return chunks;
}

Result<std::vector<TreeEntry>> walk_release_dir(const fs::path& dir) {
  std::vector<TreeEntry> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return Error::io(dir.string() + ": cannot read directory: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Error::io(dir.string() + ": cannot read directory: " + ec.message());
    const fs::directory_entry& e = *it;
    fs::path rel = e.path().lexically_relative(dir);
    std::string rs = rel.generic_string();
    if (it.depth() == 0 && rel == fs::path(kReleaseMetaDir)) {
      it.disable_recursion_pending();
      continue;
    }
    fs::file_status st = e.symlink_status(ec);
    if (ec) return Error::io(e.path().string() + ": " + ec.message());
    if (fs::is_directory(st)) continue;
    TreeEntry t{rs, TreeEntry::Type::other, 0};
    if (fs::is_symlink(st)) {
      t.type = TreeEntry::Type::symlink;
    } else if (fs::is_regular_file(st)) {
      t.type = TreeEntry::Type::regular;
      t.size = e.file_size(ec);
      if (ec) return Error::io(e.path().string() + ": " + ec.message());
    }
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return out;
}

}  // namespace modelswarm::detail
