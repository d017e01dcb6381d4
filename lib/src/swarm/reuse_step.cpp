#include "reuse_step.hpp"

#include <map>
#include <set>

namespace modelswarm::swarm {

std::function<bool(size_t, const Chunk&)> chunks_already_had(const lt::torrent_handle& h,
                                                             const lt::torrent_info& ti,
                                                             const std::string& root, const Manifest& m) {
  const lt::file_storage& files = ti.files();
  std::map<std::string, lt::file_index_t> by_path;
  const std::string prefix = root + "/";
  for (lt::file_index_t i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    std::string path = files.file_path(i, "");
    for (char& c : path)
      if (c == '\\') c = '/';
    if (path.rfind(prefix, 0) == 0) by_path[path.substr(prefix.size())] = i;
  }
  lt::torrent_status st = h.status(lt::torrent_handle::query_pieces);
  auto have = [&](lt::piece_index_t p) {
    int i = static_cast<int>(p);
    return i >= 0 && i < st.pieces.size() && st.pieces.get_bit(p);
  };
  std::set<std::pair<size_t, uint64_t>> had;
  for (size_t fi = 0; fi < m.files.size(); ++fi) {
    auto it = by_path.find(m.files[fi].path);
    if (it == by_path.end()) continue;
    for (const auto& c : m.files[fi].chunks) {
      if (c.size == 0) continue;
      lt::piece_index_t first = files.map_file(it->second, static_cast<std::int64_t>(c.offset), 1).piece;
      lt::piece_index_t last =
          files.map_file(it->second, static_cast<std::int64_t>(c.offset + c.size - 1), 1).piece;
      bool all = true;
      for (lt::piece_index_t p = first; all && p <= last; ++p) all = have(p);
      if (all) had.insert({fi, c.offset});
    }
  }
  return [had = std::move(had)](size_t f, const Chunk& c) { return had.count({f, c.offset}) > 0; };
}

void describe_reuse(const ReuseReport& r, const Manifest& m, std::int64_t piece_size, Event& e) {
  e.reuse.bytes_reused = static_cast<std::int64_t>(r.bytes_reused);
  e.reuse.bytes_reflinked = static_cast<std::int64_t>(r.bytes_reflinked);
  e.reuse.chunks_reused = static_cast<std::int64_t>(r.chunks_reused);
  e.reuse.chunks_rejected = static_cast<std::int64_t>(r.chunks_rejected);
  e.reuse.expected_download =
      piece_size > 0 ? static_cast<std::int64_t>(bytes_to_download(m, r.present, static_cast<uint64_t>(piece_size)))
                     : static_cast<std::int64_t>(m.total_size() - r.bytes_reused);
  e.message = std::to_string(r.chunks_reused) + " of " + std::to_string(r.chunks_total) +
              " chunks (" + std::to_string(r.bytes_reused) + " bytes) copied from local releases";
  if (r.chunks_present) e.message += ", " + std::to_string(r.chunks_present) + " already in place";
  for (const auto& w : r.warnings) e.message += "; " + w;
}

}  // namespace modelswarm::swarm
