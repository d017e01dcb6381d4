// Hashing a SHA-256 digest for unordered containers: its first bytes are already uniform.
#pragma once

#include <cstring>

#include "modelswarm/sha256.hpp"

namespace modelswarm::store {

struct DigestHash {
  size_t operator()(const Sha256Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

}  // namespace modelswarm::store
