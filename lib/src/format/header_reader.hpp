// Sequential reader over the header of an untrusted file, from a file descriptor (buffered
// pread) or from memory. Every read is checked against the bytes that exist, so parsers can
// bound each count by remaining() before allocating anything.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "util/file_io.hpp"

namespace modelswarm::format {

class HeaderReader {
 public:
  // Opens `path` for reading; io error when it cannot be opened or is not a regular file.
  static Result<HeaderReader> open(const std::filesystem::path& path);
  // Reads from memory: `bytes` are the first bytes of a file of `file_size` bytes.
  HeaderReader(std::span<const uint8_t> bytes, uint64_t file_size, std::string name);

  HeaderReader(HeaderReader&& o) noexcept = default;
  HeaderReader& operator=(HeaderReader&&) = delete;
  HeaderReader(const HeaderReader&) = delete;

  const std::string& name() const { return name_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t pos() const { return pos_; }
  // Bytes that can still be read (in memory mode: of the bytes given, not of the whole file).
  uint64_t remaining() const { return (fd_.get() >= 0 ? file_size_ : mem_.size()) - pos_; }

  // Reads exactly n bytes; a format error "truncated ... while reading <what>" when the file
  // ends first, an io error when the OS fails.
  Status read(void* dst, uint64_t n, const char* what);
  template <class T>
  Status read_le(T& v, const char* what) {  // host is little-endian (x86-64, aarch64)
    return read(&v, sizeof v, what);
  }
  // Reads `len` bytes into a string after checking that they exist (no allocation first).
  Status read_string(std::string& out, uint64_t len, const char* what);

  Error format_error(const std::string& problem) const;  // "<name>: <problem>"

 private:
  HeaderReader() = default;
  Status fill(uint64_t at);

  std::string name_;
  uint64_t file_size_ = 0;
  uint64_t pos_ = 0;
  file_io::Fd fd_;  // not open in memory mode
  // Memory mode: the bytes; file mode: a window [buf_start_, buf_start_ + buf_.size()).
  std::span<const uint8_t> mem_;
  std::vector<uint8_t> buf_;
  uint64_t buf_start_ = 0;
  uint64_t buf_len_ = 0;
};

}  // namespace modelswarm::format
