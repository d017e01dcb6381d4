// Progress of a long single pass (hashing, verifying, importing, quantizing) on stderr: a
// "label NN%" line redrawn in place on a terminal, or, with --json, throttled JSON-lines events
// that a script can parse while stdout stays reserved for the one result document.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "command.hpp"

namespace modelswarm::cli {

class PercentLine {
 public:
  PercentLine(const Globals& g, std::string label)
      : mode_(g.quiet ? Mode::off : g.json ? Mode::json : g.stderr_tty ? Mode::tty : Mode::off),
        label_(std::move(label)) {}

  void update(uint64_t done, uint64_t total) {
    if (mode_ == Mode::off || total == 0) return;
    if (mode_ == Mode::tty) {
      int pct = static_cast<int>(done * 100 / total);
      if (pct == last_pct_) return;
      last_pct_ = pct;
      std::fprintf(stderr, "\r%s %3d%%", label_.c_str(), pct);
      std::fflush(stderr);
      return;
    }
    // One event a second at most, and always the last one, so a log stays small on huge inputs.
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_event_ < std::chrono::seconds(1)) return;
    last_event_ = now;
    std::string s = nlohmann::json{{"event", "progress"}, {"phase", label_}, {"done", done}, {"total", total}}.dump();
    std::fprintf(stderr, "%s\n", s.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (mode_ == Mode::tty && last_pct_ >= 0) std::fprintf(stderr, "\r\033[K");
  }

 private:
  enum class Mode { off, tty, json };
  Mode mode_;
  std::string label_;
  int last_pct_ = -1;
  std::chrono::steady_clock::time_point last_event_{};
};

}  // namespace modelswarm::cli
