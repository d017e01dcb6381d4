// Best-pass timing on both bases of kernel_bench.hpp (wall clock, and CPU time per thread).
#pragma once

#include <time.h>

#include <algorithm>
#include <chrono>

#include "kernels/kernel_bench.hpp"

namespace modelswarm::kernels {

class BestPass {
 public:
  explicit BestPass(unsigned threads) : threads_(threads), start_(now()) {}

  // Times one pass of `fn`.
  template <class F>
  void pass(F&& fn) {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    fn();
    const double c1 = cpu_seconds();
    const auto w1 = std::chrono::steady_clock::now();
    wall_ = std::min(wall_, std::chrono::duration<double>(w1 - w0).count());
    cpu_ = std::min(cpu_, std::max(c1 - c0, 1e-9) / threads_);
    ++passes_;
  }

  // At least three passes, then until `seconds` have gone by.
  bool done(double seconds) const { return passes_ >= 3 && now() - start_ >= seconds; }

  // `work` units per pass, as a rate.
  Rate rate(double work) const { return {work / wall_, work / cpu_}; }

 private:
  static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  static double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
  }

  unsigned threads_;
  double start_;
  double wall_ = 1e30, cpu_ = 1e30;
  int passes_ = 0;
};

}  // namespace modelswarm::kernels
