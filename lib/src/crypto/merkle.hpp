// BitTorrent v2 (BEP 52) merkle trees: SHA-256 leaves over 16 KiB blocks of one file, padded
// to a power of two with zero hashes. The file's root ("pieces root") does not depend on the
// piece size; the piece layer does.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "modelswarm/sha256.hpp"

namespace modelswarm {

inline constexpr uint64_t kMerkleBlockSize = 16 * 1024;

// Number of 16 KiB leaves of a file of `file_size` bytes (the last one may be short).
uint64_t merkle_leaf_count(uint64_t file_size);

// Root of the tree over `leaves` padded with zero hashes to the next power of two.
// REQUIRES: !leaves.empty() (an empty file has no pieces root).
Sha256Digest merkle_root(std::span<const Sha256Digest> leaves);

// The piece layer libtorrent stores for a file: one hash per piece of `piece_size` bytes
// (a power of two, >= 16 KiB). A file no larger than one piece has a single entry, its root.
// REQUIRES: !leaves.empty().
std::vector<Sha256Digest> merkle_piece_layer(std::span<const Sha256Digest> leaves,
                                             uint64_t piece_size);

}  // namespace modelswarm
