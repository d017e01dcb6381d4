// A fixed set of worker threads for data-parallel loops. Built for many short calls (a decode
// step calls it hundreds of times per token): workers spin briefly for the next call before
// they block, and a call costs no allocation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace modelswarm {

class ThreadPool {
 public:
  // `threads` counts the calling thread too, so ThreadPool(1) starts no worker; 0 means one per
  // hardware thread.
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads taking part in a call, the caller included.
  unsigned size() const { return unsigned(workers_.size()) + 1; }

  // Calls fn(begin, end) on disjoint chunks that together cover [0, n), on all threads, and
  // returns when every chunk is done. Chunk bounds are multiples of `grain` (except the end).
  // fn must not throw. REQUIRES: not called concurrently on the same pool, nor from inside fn.
  template <class F>
  void parallel_for(size_t n, size_t grain, F&& fn) {
    using Fn = std::remove_reference_t<F>;
    run(n, grain, [](void* ctx, size_t b, size_t e) { (*static_cast<Fn*>(ctx))(b, e); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using ChunkFn = void (*)(void* ctx, size_t begin, size_t end);
  void run(size_t n, size_t grain, ChunkFn fn, void* ctx);
  void work(uint32_t generation);
  void worker_main();

  std::vector<std::thread> workers_;
  // The current call; written by the caller before the call is published in `state_`, and
  // read by a thread only after it claimed one of the call's chunks.
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  size_t n_ = 0, chunk_ = 0;
  uint32_t generation_count_ = 0;
  // generation << 32 | chunks << 16 | next unclaimed chunk: claiming is one CAS, and a thread
  // that wakes up late cannot claim a chunk of a call that already returned.
  alignas(64) std::atomic<uint64_t> state_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};  // workers sleep on this
  std::atomic<uint32_t> worker_sleepers_{0};
  alignas(64) std::atomic<uint32_t> done_chunks_{0};  // the caller sleeps on this
  std::atomic<uint32_t> caller_sleeps_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace modelswarm
