// A throttled "hashing NN%" line on stderr for long hashing passes (TTY only, not with --quiet).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "command.hpp"

namespace modelswarm::cli {

class PercentLine {
 public:
  PercentLine(const Globals& g, std::string label) : on_(g.stderr_tty && !g.quiet), label_(std::move(label)) {}
  void update(uint64_t done, uint64_t total) {
    if (!on_ || total == 0) return;
    int pct = static_cast<int>(done * 100 / total);
    if (pct == last_) return;
    last_ = pct;
    std::fprintf(stderr, "\r%s %3d%%", label_.c_str(), pct);
    std::fflush(stderr);
  }
  void finish() {
    if (on_ && last_ >= 0) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool on_;
  std::string label_;
  int last_ = -1;
};

}  // namespace modelswarm::cli
