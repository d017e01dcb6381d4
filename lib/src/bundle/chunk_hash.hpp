// SHA-256 of a chunk whose frames are processed by several threads at once. The digest is
// sequential, so frames are hashed strictly in order: the thread holding frame k of a chunk waits
// until frame k-1 was hashed. Frames are handed out in index order, so the thread it waits for is
// always already working, and a big chunk is decoded (or compressed) on every core while only
// the hashing is serial.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>

#include "modelswarm/sha256.hpp"

namespace modelswarm::file_io {

class OrderedChunkHash {
 public:
  // Hashes `data` as frame `position` of the chunk once all earlier frames are hashed. Returns
  // false (without hashing) if `abort` was set while waiting. When `last` is true, `digest_out`
  // receives the chunk's digest.
  bool add(uint64_t position, std::span<const uint8_t> data, bool last, const std::atomic<bool>& abort,
           Sha256Digest* digest_out) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return next_ == position || abort.load(); });
    if (next_ != position) return false;
    hasher_.update(data);
    ++next_;
    if (last) *digest_out = hasher_.finish();
    cv_.notify_all();
    return true;
  }

  // Wakes waiters after `abort` was set.
  void wake() {
    std::lock_guard lk(mu_);
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_ = 0;
  Sha256 hasher_;
};

}  // namespace modelswarm::file_io
