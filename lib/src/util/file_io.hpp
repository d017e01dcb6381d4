// The POSIX file layer every module uses: an owning descriptor, full-length positional
// reads/writes (worker threads share one descriptor without a shared file offset), and one
// read-only memory map. Whole small files are read with read_small_file (paths.hpp), built on
// this layer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <sys/stat.h>
#include <string>

#include "modelswarm/error.hpp"

namespace modelswarm::file_io {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_ = -1;
};

// Whether opening a path may follow a symbolic link in its last component. Files of a release
// are opened with `refuse`: a link swapped in after the directory walk must not be read.
enum class Links { follow, refuse };

Result<Fd> open_read(const std::filesystem::path& p, Links links = Links::follow);
// Creates a new file (fails if it exists), mode 0644.
Result<Fd> create_exclusive(const std::filesystem::path& p);
// Opens for reading and writing, created with mode 0644 if missing; never through a link.
Result<Fd> open_write(const std::filesystem::path& p);
// fstat, where anything but a regular file is an io error naming `p`.
Result<struct stat> stat_regular(int fd, const std::filesystem::path& p);
Result<uint64_t> file_size(int fd, const std::filesystem::path& p);

// Reads at `offset` until `out` is full or the file ends, and returns the bytes read: fewer than
// out.size() only at the end of the file. A failed read (EIO, ...) is an io error naming `name`,
// so that callers can tell a file shorter than they expect (which each names its own way: a
// format, content or io problem) from a disk that fails.
Result<size_t> pread_upto(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& name);
// pread_upto where a short read is a format error (the file is shorter than its own header
// says). `name` is used in messages.
Status pread_full(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& name);
// A full disk is an io error that says "disk full".
Status pwrite_full(int fd, std::span<const uint8_t> data, uint64_t offset,
                   const std::string& name);
Status sync_file(int fd, const std::string& name);
Status sync_dir(const std::filesystem::path& dir);

std::string errno_text();

// A read-only memory map of a whole file, unmapped on destruction. Move-only. An empty file maps
// to no bytes (data() is null). A file truncated while mapped raises SIGBUS on access: map only
// files this process wrote or checked, and read with pread where a shrinking file must be an
// error instead.
class MappedFile {
 public:
  // Errors: io (open, stat, not a regular file, mmap).
  static Result<MappedFile> open(const std::filesystem::path& path);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace modelswarm::file_io
