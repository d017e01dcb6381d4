#include "format/output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>
#include <cstring>

namespace modelswarm::format {

namespace {
constexpr size_t kBuffer = 4 << 20;

std::string errno_text() { return std::strerror(errno); }
}  // namespace

OutputFile::~OutputFile() { abandon(); }

void OutputFile::abandon() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(temp_.c_str());
  }
  buf_.clear();
}

Status OutputFile::open(const std::filesystem::path& final_path) {
  abandon();
  final_ = final_path;
  // O_EXCL on a fresh random name, mode 0666 so the umask applies as for any new file (mkstemp
  // would create 0600, and changing the umask is not thread-safe).
  std::string tmpl;
  std::random_device rd;
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp-%08x%08x", rd(), rd());
    tmpl = final_path.string() + suffix;
    fd_ = ::open(tmpl.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0) return Error::io(final_path.string() + ": cannot create: " + errno_text());
  temp_ = tmpl;
  written_ = 0;
  buf_.clear();
  buf_.reserve(kBuffer);
  return {};
}

Status OutputFile::write_all(const uint8_t* p, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t k = ::write(fd_, p + off, n - off);
    if (k < 0) {
      if (errno == EINTR) continue;
      return Error::io(final_.string() + ": write failed: " + errno_text());
    }
    off += static_cast<size_t>(k);
  }
  return {};
}

Status OutputFile::flush() {
  Status s = write_all(buf_.data(), buf_.size());
  buf_.clear();
  return s;
}

Status OutputFile::write(const void* data, size_t n) {
  if (fd_ < 0) return Error::internal(final_.string() + ": write to a file that is not open");
  const auto* p = static_cast<const uint8_t*>(data);
  written_ += n;
  if (buf_.size() + n > kBuffer) {
    MS_TRY(flush());
    if (n >= kBuffer) return write_all(p, n);  // large tensors go straight to the file
  }
  buf_.insert(buf_.end(), p, p + n);
  return {};
}

Status OutputFile::write_zeros(uint64_t n) {
  static const uint8_t zeros[4096] = {};
  while (n > 0) {
    size_t k = n < sizeof zeros ? static_cast<size_t>(n) : sizeof zeros;
    MS_TRY(write(zeros, k));
    n -= k;
  }
  return {};
}

Status OutputFile::commit() {
  if (fd_ < 0) return Error::internal(final_.string() + ": commit of a file that is not open");
  MS_TRY(flush());
  if (::fsync(fd_) != 0) return Error::io(final_.string() + ": fsync failed: " + errno_text());
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(temp_.c_str());
    return Error::io(final_.string() + ": close failed: " + errno_text());
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), final_.c_str()) != 0) {
    int e = errno;
    ::unlink(temp_.c_str());
    return Error::io(final_.string() + ": rename into place failed: " + std::strerror(e));
  }
  return {};
}

}  // namespace modelswarm::format
