// Chunk-level comparison of two manifests.
#include "modelswarm/diff.hpp"

#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include "modelswarm/store.hpp"
#include "store/digest_hash.hpp"

namespace modelswarm {

namespace {

struct Ref {
  const ManifestFile* file;
  const Chunk* chunk;
};

std::vector<Ref> all_chunks(const Manifest& m) {
  std::vector<Ref> out;
  for (const auto& f : m.files)
    for (const auto& c : f.chunks) out.push_back({&f, &c});
  return out;
}

ChunkChange make_change(ChunkChange::Kind kind, const Ref* a, const Ref* b) {
  ChunkChange c;
  c.kind = kind;
  c.name = (b ? b : a)->chunk->name;
  if (a) {
    c.path_a = a->file->path;
    c.offset_a = a->chunk->offset;
    c.size_a = a->chunk->size;
    c.dtype_a = a->chunk->dtype;
  }
  if (b) {
    c.path_b = b->file->path;
    c.offset_b = b->chunk->offset;
    c.size_b = b->chunk->size;
    c.dtype_b = b->chunk->dtype;
  }
  return c;
}

}  // namespace

std::string_view chunk_change_name(ChunkChange::Kind k) {
  switch (k) {
    case ChunkChange::Kind::added: return "added";
    case ChunkChange::Kind::removed: return "removed";
    case ChunkChange::Kind::changed: return "changed";
    case ChunkChange::Kind::moved: return "moved";
  }
  return "unknown";
}

ReleaseDiff diff_manifests(const Manifest& a, const Manifest& b, uint64_t piece_size) {
  ReleaseDiff d;
  d.bytes_a = a.total_size();
  d.bytes_b = b.total_size();
  std::vector<Ref> ca = all_chunks(a), cb = all_chunks(b);
  d.chunks_a = ca.size();
  d.chunks_b = cb.size();

  // Pairing: first by (path, name), then by name alone among the unpaired (a tensor that
  // moved between shards). A name that is ambiguous in the second pass stays unpaired.
  std::vector<int64_t> pair_of_b(cb.size(), -1);
  std::vector<bool> a_paired(ca.size(), false);
  std::map<std::pair<std::string, std::string>, size_t> by_path_name;
  for (size_t i = 0; i < ca.size(); ++i)
    by_path_name.emplace(std::make_pair(ca[i].file->path, ca[i].chunk->name), i);
  for (size_t j = 0; j < cb.size(); ++j) {
    auto it = by_path_name.find({cb[j].file->path, cb[j].chunk->name});
    if (it != by_path_name.end() && !a_paired[it->second]) {
      pair_of_b[j] = static_cast<int64_t>(it->second);
      a_paired[it->second] = true;
    }
  }
  std::map<std::string, std::vector<size_t>> a_by_name, b_by_name;
  for (size_t i = 0; i < ca.size(); ++i)
    if (!a_paired[i] && ca[i].chunk->dtype) a_by_name[ca[i].chunk->name].push_back(i);
  for (size_t j = 0; j < cb.size(); ++j)
    if (pair_of_b[j] < 0 && cb[j].chunk->dtype) b_by_name[cb[j].chunk->name].push_back(j);
  for (const auto& [name, js] : b_by_name) {
    auto it = a_by_name.find(name);
    if (js.size() != 1 || it == a_by_name.end() || it->second.size() != 1) continue;
    pair_of_b[js[0]] = static_cast<int64_t>(it->second[0]);
    a_paired[it->second[0]] = true;
  }

  std::unordered_set<Sha256Digest, store::DigestHash> in_a;
  for (const auto& r : ca) in_a.insert(r.chunk->sha256);

  using Kind = ChunkChange::Kind;
  std::vector<std::vector<ByteRange>> present(b.files.size());
  for (size_t j = 0; j < cb.size(); ++j) {
    const Ref& rb = cb[j];
    if (in_a.count(rb.chunk->sha256)) {
      d.reusable_bytes += rb.chunk->size;
      present[static_cast<size_t>(rb.file - b.files.data())].push_back({rb.chunk->offset, rb.chunk->size});
    } else {
      d.transfer_bytes += rb.chunk->size;
    }
    if (pair_of_b[j] < 0) {
      d.changes.push_back(make_change(Kind::added, nullptr, &rb));
      continue;
    }
    const Ref& ra = ca[static_cast<size_t>(pair_of_b[j])];
    if (ra.chunk->sha256 != rb.chunk->sha256)
      d.changes.push_back(make_change(Kind::changed, &ra, &rb));
    else if (ra.file->path != rb.file->path || ra.chunk->offset != rb.chunk->offset)
      d.changes.push_back(make_change(Kind::moved, &ra, &rb));
    else
      ++d.unchanged;
  }
  for (size_t i = 0; i < ca.size(); ++i)
    if (!a_paired[i]) d.changes.push_back(make_change(Kind::removed, &ca[i], nullptr));

  if (piece_size > 0) {
    d.piece_size = piece_size;
    d.transfer_bytes_pieces = bytes_to_download(b, present, piece_size);
  }
  return d;
}

}  // namespace modelswarm
