// One way to run independent jobs on several threads, for the passes that read or write a whole
// release (hashing, reuse, bundle import, conversion). The rules every such pass needs are kept
// here once:
//  - "0 threads" means all hardware threads, decided by worker_threads() alone;
//  - the first error a job returns wins, and no job starts after it;
//  - cancellation is checked before every job, and long jobs can poll stopped() between steps;
//  - progress goes through a ProgressCounter, which makes one call at a time.
// The kernels keep their own latency-tuned ThreadPool (thread_pool.hpp): they run many short
// rounds, not one long pass.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm {

// Threads to use for `jobs` jobs when the caller asked for `requested` (0: every hardware
// thread): never more than there are jobs, never fewer than one.
unsigned worker_threads(unsigned requested, size_t jobs = SIZE_MAX);

// Reports bytes (or any unit) done out of a fixed total. add() may be called from any worker;
// the callback is called under a lock, one call at a time, with `done` never decreasing, on the
// thread of the worker that finished the work. A null callback makes add() only count.
class ProgressCounter {
 public:
  using Fn = std::function<void(uint64_t done, uint64_t total)>;
  ProgressCounter(Fn fn, uint64_t total) : fn_(std::move(fn)), total_(total) {}
  void add(uint64_t n);
  uint64_t done() const;

 private:
  Fn fn_;
  uint64_t total_;
  mutable std::mutex mu_;
  uint64_t done_ = 0;
};

// Jobs 0..count-1, taken in index order (sort them largest first) by worker_threads(threads,
// count) threads, the calling thread among them.
class ParallelJobs {
 public:
  // `cancel`, when set, stops the run with an interrupted error saying `interrupted_message`.
  ParallelJobs(size_t count, unsigned threads, const std::atomic<bool>* cancel,
               std::string interrupted_message);

  unsigned threads() const { return threads_; }

  // True once a job failed or the run was cancelled. A long job polls it between steps and
  // returns early (with success: the run's error is already decided).
  bool stopped();
  // Set together with stopped(), for code that waits on other jobs and must wake when the run
  // stops (see on_stop).
  const std::atomic<bool>& stop_flag() const { return stop_; }
  // Called once, on the thread that stops the run, after stop_flag() is set: wakes jobs that
  // wait on each other (OrderedChunkHash). Set before run().
  void on_stop(std::function<void()> fn) { on_stop_ = std::move(fn); }

  // Runs job(i, state) for every job on the run's threads; `State` is default-constructed once
  // per thread (buffers, codecs) and reused for the jobs that thread takes. Returns the first
  // error, or interrupted when cancelled, once every thread has returned.
  template <class State, class Job>
  Status run(Job&& job) {
    run_workers([&] {
      State state{};
      for (std::optional<size_t> i; (i = next());) {
        Status st = job(*i, state);
        if (!st.ok()) return fail(st.error());
      }
    });
    return result();
  }

  // Records `e` unless an error was recorded before, and stops the run.
  void fail(const Error& e);

 private:
  std::optional<size_t> next();
  void run_workers(const std::function<void()>& worker);
  Status result();

  size_t count_;
  unsigned threads_;
  const std::atomic<bool>* cancel_;
  std::string interrupted_message_;
  std::function<void()> on_stop_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::optional<Error> error_;
};

// Calls fn(begin, end) over consecutive ranges covering [0, n), whose bounds are multiples of
// `grain`, one range per thread (worker_threads(threads)). For loops whose steps cannot fail.
void parallel_ranges(uint64_t n, uint64_t grain, unsigned threads,
                     const std::function<void(uint64_t begin, uint64_t end)>& fn);

}  // namespace modelswarm
