#include "util/parallel_jobs.hpp"

#include <algorithm>

namespace modelswarm {

unsigned worker_threads(unsigned requested, size_t jobs) {
  size_t t = requested ? requested : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::max<size_t>(1, std::min(t, jobs)));
}

void ProgressCounter::add(uint64_t n) {
  std::lock_guard lock(mu_);
  done_ += n;
  if (fn_) fn_(done_, total_);
}

uint64_t ProgressCounter::done() const {
  std::lock_guard lock(mu_);
  return done_;
}

ParallelJobs::ParallelJobs(size_t count, unsigned threads, const std::atomic<bool>* cancel,
                           std::string interrupted_message)
    : count_(count), threads_(worker_threads(threads, count)), cancel_(cancel),
      interrupted_message_(std::move(interrupted_message)) {}

bool ParallelJobs::stopped() {
  if (!stop_.load(std::memory_order_relaxed) && cancel_ && cancel_->load(std::memory_order_relaxed))
    fail(Error::interrupted(interrupted_message_));
  return stop_.load(std::memory_order_relaxed);
}

void ParallelJobs::fail(const Error& e) {
  {
    std::lock_guard lock(mu_);
    if (error_) return;
    error_ = e;
    stop_.store(true);
  }
  if (on_stop_) on_stop_();
}

std::optional<size_t> ParallelJobs::next() {
  if (stopped()) return std::nullopt;
  size_t i = next_.fetch_add(1);
  if (i >= count_) return std::nullopt;
  return i;
}

void ParallelJobs::run_workers(const std::function<void()>& worker) {
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads_; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

Status ParallelJobs::result() {
  std::lock_guard lock(mu_);
  if (error_) return *error_;
  return {};
}

void parallel_ranges(uint64_t n, uint64_t grain, unsigned threads,
                     const std::function<void(uint64_t begin, uint64_t end)>& fn) {
  grain = std::max<uint64_t>(grain, 1);
  const uint64_t units = (n + grain - 1) / grain;
  const unsigned workers = worker_threads(threads, units);
  // Each thread one range of whole grains: the steps cost alike, so no queue is needed.
  const uint64_t per = std::max<uint64_t>(1, (units + workers - 1) / workers) * grain;
  const uint64_t ranges = (n + per - 1) / per;
  ParallelJobs jobs(ranges, workers, nullptr, "");
  (void)jobs.run<char>([&](size_t r, char&) -> Status {
    fn(r * per, std::min(n, (r + 1) * per));
    return {};
  });
}

}  // namespace modelswarm
