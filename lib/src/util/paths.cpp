#include "modelswarm/paths.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "util/file_io.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

const char* env_nonempty(const char* name) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : nullptr;
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io(path.string() + ": write failed: " + errno_text());
    }
    done += static_cast<size_t>(n);
  }
  return Status::success();
}

}  // namespace

fs::path state_dir() {
  if (const char* home = env_nonempty("MODELSWARM_HOME")) return fs::path(home);
  if (const char* xdg = env_nonempty("XDG_DATA_HOME")) return fs::path(xdg) / "modelswarm";
  if (const char* h = env_nonempty("HOME")) return fs::path(h) / ".local/share/modelswarm";
  return fs::path(".modelswarm-state");
}

Result<fs::path> ensure_state_dir() {
  fs::path dir = state_dir();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return dir;
  fs::create_directories(dir, ec);
  if (ec) return Error::io(dir.string() + ": cannot create state directory: " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return dir;
}

Status write_file_atomic(const fs::path& path, std::string_view data, unsigned mode) {
  fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::random_device rd;
  fs::path tmp = dir / ("." + path.filename().string() + ".tmp" + std::to_string(::getpid()) +
                        "." + std::to_string(rd()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
  // Name the file the caller asked for: the temporary name means nothing to a user.
  if (fd < 0) return Error::io(path.string() + ": cannot create: " + errno_text());
  ::fchmod(fd, mode & 07777);  // umask must not widen or narrow what the caller asked for
  Status st = write_all(fd, data, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Error::io(tmp.string() + ": fsync failed: " + errno_text());
  if (::close(fd) != 0 && st.ok()) st = Error::io(tmp.string() + ": close failed: " + errno_text());
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    st = Error::io(path.string() + ": rename failed: " + errno_text());
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::success();
}

Result<std::string> read_small_file(const fs::path& path, size_t max_bytes) {
  MS_ASSIGN_OR_RETURN(file_io::Fd fd, file_io::open_read(path));
  MS_ASSIGN_OR_RETURN(uint64_t size, file_io::file_size(fd.get(), path));
  if (size > max_bytes)
    return Error::format(path.string() + ": too large (" + std::to_string(size) + " bytes, at most " +
                         std::to_string(max_bytes) + ")");
  // Read to the end, not to the size fstat gave: a file that grows meanwhile is still read
  // whole, or refused once it passes the limit.
  std::string out;
  for (;;) {
    const size_t at = out.size();
    const uint64_t cap = std::max<uint64_t>(max_bytes, uint64_t{max_bytes} + 1);  // one past the limit
    out.resize(static_cast<size_t>(std::min(cap, std::max<uint64_t>(size + 1, at + (64u << 10)))));
    auto* dst = reinterpret_cast<uint8_t*>(out.data()) + at;
    MS_ASSIGN_OR_RETURN(size_t got, file_io::pread_upto(fd.get(), std::span(dst, out.size() - at), at,
                                                        path.string()));
    const bool ended = at + got < out.size();
    out.resize(at + got);
    if (out.size() > max_bytes)
      return Error::format(path.string() + ": too large (more than " + std::to_string(max_bytes) + " bytes)");
    if (ended) break;
  }
  return out;
}

}  // namespace modelswarm
