#include "crypto/merkle.hpp"

#include <cstring>

namespace modelswarm {

namespace {

Sha256Digest hash_pair(const Sha256Digest& a, const Sha256Digest& b) {
  uint8_t buf[64];
  std::memcpy(buf, a.data(), 32);
  std::memcpy(buf + 32, b.data(), 32);
  return sha256(buf, sizeof buf);
}

uint64_t next_pow2(uint64_t n) {
  uint64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// Root of `leaves` padded with zero leaves to `width` (a power of two >= leaves.size()).
// Zero subtrees are hashed once per level instead of once per pad.
Sha256Digest padded_root(std::span<const Sha256Digest> leaves, uint64_t width) {
  std::vector<Sha256Digest> level(leaves.begin(), leaves.end());
  Sha256Digest pad{};  // root of an all-zero subtree at the current level
  while (width > 1) {
    std::vector<Sha256Digest> up;
    up.reserve((level.size() + 1) / 2);
    for (size_t i = 0; i < level.size(); i += 2) {
      const Sha256Digest& right = i + 1 < level.size() ? level[i + 1] : pad;
      up.push_back(hash_pair(level[i], right));
    }
    pad = hash_pair(pad, pad);
    level = std::move(up);
    width /= 2;
  }
  return level.empty() ? pad : level[0];
}

}  // namespace

uint64_t merkle_leaf_count(uint64_t file_size) {
  return (file_size + kMerkleBlockSize - 1) / kMerkleBlockSize;
}

Sha256Digest merkle_root(std::span<const Sha256Digest> leaves) {
  return padded_root(leaves, next_pow2(leaves.size()));
}

std::vector<Sha256Digest> merkle_piece_layer(std::span<const Sha256Digest> leaves,
                                             uint64_t piece_size) {
  uint64_t per_piece = piece_size / kMerkleBlockSize;
  if (leaves.size() <= per_piece) return {merkle_root(leaves)};
  std::vector<Sha256Digest> layer;
  for (size_t i = 0; i < leaves.size(); i += per_piece) {
    size_t n = std::min<size_t>(per_piece, leaves.size() - i);
    layer.push_back(padded_root(leaves.subspan(i, n), per_piece));
  }
  return layer;
}

}  // namespace modelswarm
