// Copying one byte range between two open files, keeping it only when its SHA-256 is right.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/sha256.hpp"

namespace modelswarm::store {

struct RangeFile {
  int fd = -1;
  uint64_t size = 0;       // current file size
  std::string name;        // for messages
};

struct CopyOutcome {
  enum class Kind { copied, cloned, mismatch, short_source };
  Kind kind = Kind::mismatch;
  uint64_t bytes_read = 0;
};

struct CopyContext {
  std::vector<uint8_t> buffer;             // per worker thread, reused
  std::atomic<bool>* reflink_ok = nullptr; // cleared when the filesystem refuses clones
  const std::atomic<bool>* cancel = nullptr;
};

// Reads [src_off, src_off + size) of `src`, hashes it, and writes it at `dst_off` of `dst`;
// `copied` when the hash equals `want`. Bytes are written as they are read, so a mismatch leaves
// them in `dst` until the end, when a mismatch erases the range again (hole or zeros), so that no
// byte of a rejected chunk stays in `dst`. When reflinks
// are allowed and the offsets and length are multiples of `block` (the length may also end at
// both files' ends), the source is hashed first and the range is then cloned (FICLONERANGE),
// falling back to the copy when the filesystem refuses. Errors: io on `dst` (write failure),
// interrupted. A read failure or a source shorter than the range is `short_source`.
Result<CopyOutcome> copy_checked(const RangeFile& src, uint64_t src_off, const RangeFile& dst,
                                 uint64_t dst_off, uint64_t size, const Sha256Digest& want,
                                 uint64_t block, CopyContext& ctx);

}  // namespace modelswarm::store
