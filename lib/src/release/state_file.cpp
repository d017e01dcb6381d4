#include "release/state_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "modelswarm/paths.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

Result<StateLock> StateLock::acquire() {
  MS_ASSIGN_OR_RETURN(fs::path dir, ensure_state_dir());
  fs::path p = dir / "lock";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error::io(p.string() + ": cannot open: " + std::strerror(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd);
      return Error::io(p.string() + ": cannot lock: " + std::strerror(errno));
    }
  }
  return StateLock(fd);
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

Result<std::string> read_optional_state(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::string();
  return read_small_file(p, kMaxStateFile);
}

Result<nlohmann::json> load_state_object(const fs::path& p) {
  MS_ASSIGN_OR_RETURN(std::string text, read_optional_state(p));
  if (text.empty()) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw std::runtime_error("not an object");
    return j;
  } catch (const std::exception& e) {
    return Error::format(p.string() + ": corrupt state file: " + e.what());
  }
}

}  // namespace modelswarm
