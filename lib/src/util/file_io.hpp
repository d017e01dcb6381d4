// POSIX file helpers every module uses: an owning descriptor and full-length positional
// reads/writes, so that worker threads share one descriptor without a shared file offset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
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

Result<Fd> open_read(const std::filesystem::path& p);
// Creates a new file (fails if it exists), mode 0644.
Result<Fd> create_exclusive(const std::filesystem::path& p);
Result<uint64_t> file_size(int fd, const std::filesystem::path& p);

// Reads exactly out.size() bytes at `offset`; a short read is a format error (the file is
// shorter than its own header says), other failures io errors. `name` is used in messages.
Status pread_full(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& name);
Status pwrite_full(int fd, std::span<const uint8_t> data, uint64_t offset,
                   const std::string& name);
Status sync_file(int fd, const std::string& name);
Status sync_dir(const std::filesystem::path& dir);

std::string errno_text();

}  // namespace modelswarm::file_io
