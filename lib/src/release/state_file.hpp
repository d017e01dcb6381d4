// Private to lib/src/release: the files of state_dir() (trust store, rollback and manifest
// ledgers, channel items). A read-modify-write holds StateLock, an flock on state_dir()/lock, so
// that concurrent modelswarm processes do not lose each other's updates.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "modelswarm/error.hpp"

namespace modelswarm {

inline constexpr size_t kMaxStateFile = 16u << 20;

class StateLock {
 public:
  static Result<StateLock> acquire();
  StateLock(StateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

// The file's contents; empty when it does not exist.
Result<std::string> read_optional_state(const std::filesystem::path& p);
// A JSON object state file; an empty object when it does not exist. Format error otherwise.
Result<nlohmann::json> load_state_object(const std::filesystem::path& p);

}  // namespace modelswarm
