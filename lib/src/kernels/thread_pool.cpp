#include "modelswarm/thread_pool.hpp"
#include "util/parallel_jobs.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MS_CPU_RELAX() _mm_pause()
#else
#define MS_CPU_RELAX() std::atomic_signal_fence(std::memory_order_seq_cst)
#endif

namespace modelswarm {

namespace {
// About 50-100 µs of spinning: longer than the gap between the kernel calls of one decode step,
// far shorter than the gap between tokens of an idle server.
constexpr int kSpinIterations = 1 << 12;
constexpr uint32_t kMaxChunks = 0xffff;

uint32_t* word(std::atomic<uint32_t>& a) { return reinterpret_cast<uint32_t*>(&a); }

// Blocks while `a` holds `old`. The sleeper count lets wakers skip the system call when nobody
// sleeps; both sides use seq_cst so a waker either sees the sleeper or the sleeper sees the
// new value.
void sleep_while(std::atomic<uint32_t>& a, uint32_t old, std::atomic<uint32_t>& sleepers) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (a.load(std::memory_order_acquire) != old) return;
    MS_CPU_RELAX();
  }
  sleepers.fetch_add(1);
  while (a.load() == old) syscall(SYS_futex, word(a), FUTEX_WAIT_PRIVATE, old, nullptr, nullptr, 0);
  sleepers.fetch_sub(1);
}

void wake_all(std::atomic<uint32_t>& a, std::atomic<uint32_t>& sleepers) {
  if (sleepers.load() != 0) syscall(SYS_futex, word(a), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}
}  // namespace

ThreadPool::ThreadPool(unsigned threads) {
  threads = worker_threads(threads);
  workers_.reserve(threads - 1);
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_main(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  wake_all(generation_, worker_sleepers_);
  for (auto& t : workers_) t.join();
}

void ThreadPool::work(uint32_t generation) {
  for (;;) {
    uint64_t s = state_.load(std::memory_order_acquire);
    if (uint32_t(s >> 32) != generation) return;
    const uint32_t next = uint32_t(s & 0xffff), chunks = uint32_t((s >> 16) & 0xffff);
    if (next >= chunks) return;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
    const size_t b = size_t(next) * chunk_;
    fn_(ctx_, b, std::min(n_, b + chunk_));
    if (done_chunks_.fetch_add(1) + 1 == chunks) wake_all(done_chunks_, caller_sleeps_);
  }
}

void ThreadPool::worker_main() {
  // Not a load: a call may already have been published before this thread started.
  uint32_t seen = 0;
  for (;;) {
    sleep_while(generation_, seen, worker_sleepers_);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    work(seen);
  }
}

void ThreadPool::run(size_t n, size_t grain, ChunkFn fn, void* ctx) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  const size_t units = (n + grain - 1) / grain;
  if (workers_.empty() || units == 1) {
    fn(ctx, 0, n);
    return;
  }
  // A few chunks per thread, so a thread slowed by another process does not hold up the call.
  const size_t target = std::min<size_t>({units, size_t(size()) * 4, kMaxChunks});
  const size_t per = (units + target - 1) / target;
  fn_ = fn;
  ctx_ = ctx;
  n_ = n;
  chunk_ = per * grain;
  const uint32_t chunks = uint32_t((n + chunk_ - 1) / chunk_);
  const uint32_t gen = ++generation_count_;
  done_chunks_.store(0);
  state_.store((uint64_t(gen) << 32) | (uint64_t(chunks) << 16), std::memory_order_release);
  generation_.store(gen);
  wake_all(generation_, worker_sleepers_);
  work(gen);
  // Only chunks are waited for, not threads: a worker that wakes up late finds nothing to claim.
  for (;;) {
    const uint32_t done = done_chunks_.load(std::memory_order_acquire);
    if (done == chunks) break;
    sleep_while(done_chunks_, done, caller_sleeps_);
  }
}

}  // namespace modelswarm
