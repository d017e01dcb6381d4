#include "reserve.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace modelswarm::swarm {

namespace fs = std::filesystem;

Status reserve_files(const std::vector<std::pair<fs::path, std::int64_t>>& files) {
  for (const auto& [path, size] : files) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return Error::io(path.parent_path().string() + ": cannot create: " + ec.message());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Error::io(path.string() + ": cannot create: " + std::strerror(errno));
    // posix_fallocate keeps what the file holds (a resumed fetch) and only fills the holes.
    int rc = size > 0 ? ::posix_fallocate(fd, 0, size) : 0;
    ::close(fd);
    if (rc == ENOSPC || rc == EDQUOT)
      return Error::io(path.string() + ": disk full: no room for its " + std::to_string(size) +
                       " bytes; free space and run the same fetch again to resume");
    if (rc != 0) return Error::io(path.string() + ": cannot reserve " + std::to_string(size) + " bytes: " + std::strerror(rc));
  }
  return Status::success();
}

}  // namespace modelswarm::swarm
