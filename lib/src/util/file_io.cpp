#include "util/file_io.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace modelswarm::file_io {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string errno_text() { return std::strerror(errno); }

Result<Fd> open_read(const std::filesystem::path& p, Links links) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | (links == Links::refuse ? O_NOFOLLOW : 0));
  if (fd < 0) return Error::io(p.string() + ": cannot open: " + errno_text());
  return Fd(fd);
}

Result<Fd> create_exclusive(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Error::io(p.string() + ": cannot create: " + errno_text());
  return Fd(fd);
}

Result<Fd> open_write(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Error::io(p.string() + ": cannot open for writing: " + errno_text());
  return Fd(fd);
}

Result<struct stat> stat_regular(int fd, const std::filesystem::path& p) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error::io(p.string() + ": cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) return Error::io(p.string() + ": not a regular file");
  return st;
}

Result<uint64_t> file_size(int fd, const std::filesystem::path& p) {
  MS_ASSIGN_OR_RETURN(struct stat st, stat_regular(fd, p));
  return static_cast<uint64_t>(st.st_size);
}

Result<size_t> pread_upto(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& name) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io(name + ": read failed: " + errno_text());
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status pread_full(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& name) {
  MS_ASSIGN_OR_RETURN(size_t got, pread_upto(fd, out, offset, name));
  if (got < out.size()) return Error::format(name + ": unexpected end of file");
  return {};
}

Status pwrite_full(int fd, std::span<const uint8_t> data, uint64_t offset,
                   const std::string& name) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      // Said in words a user searches for: the fix is room on the disk, not a retry.
      if (errno == ENOSPC) return Error::io(name + ": disk full (" + errno_text() + ")");
      return Error::io(name + ": write failed: " + errno_text());
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Status sync_file(int fd, const std::string& name) {
  if (::fdatasync(fd) != 0) return Error::io(name + ": fsync failed: " + errno_text());
  return {};
}

Status sync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::io(dir.string() + ": cannot open directory: " + errno_text());
  Fd owner(fd);
  if (::fsync(fd) != 0) return Error::io(dir.string() + ": fsync failed: " + errno_text());
  return {};
}

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
  MS_ASSIGN_OR_RETURN(Fd fd, open_read(path));
  MS_ASSIGN_OR_RETURN(uint64_t size, file_size(fd.get(), path));
  MappedFile m;
  if (size == 0) return m;  // mmap refuses a zero length
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) return Error::io(path.string() + ": cannot map: " + errno_text());
  // The descriptor closes here: the mapping keeps the file referenced.
  m.data_ = static_cast<const uint8_t*>(p);
  m.size_ = size;
  return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace modelswarm::file_io
