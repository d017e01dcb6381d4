#include "format/header_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace modelswarm::format {

namespace {
constexpr uint64_t kWindow = 1 << 20;
}

Result<HeaderReader> HeaderReader::open(const std::filesystem::path& path) {
  HeaderReader r;
  r.name_ = path.string();
  r.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r.fd_ < 0) return Error::io(r.name_ + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(r.fd_, &st) != 0) return Error::io(r.name_ + ": cannot stat: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return Error::io(r.name_ + ": is a directory");
  if (!S_ISREG(st.st_mode)) return Error::io(r.name_ + ": not a regular file");
  r.file_size_ = static_cast<uint64_t>(st.st_size);
  r.buf_.resize(std::min<uint64_t>(kWindow, std::max<uint64_t>(r.file_size_, 1)));
  return r;
}

HeaderReader::HeaderReader(std::span<const uint8_t> bytes, uint64_t file_size, std::string name)
    : name_(std::move(name)), file_size_(std::max<uint64_t>(file_size, bytes.size())), mem_(bytes) {}

HeaderReader::HeaderReader(HeaderReader&& o) noexcept
    : name_(std::move(o.name_)), file_size_(o.file_size_), pos_(o.pos_), fd_(o.fd_),
      mem_(o.mem_), buf_(std::move(o.buf_)), buf_start_(o.buf_start_), buf_len_(o.buf_len_) {
  o.fd_ = -1;
}

HeaderReader::~HeaderReader() {
  if (fd_ >= 0) ::close(fd_);
}

Error HeaderReader::format_error(const std::string& problem) const {
  return Error::format(name_ + ": " + problem);
}

Status HeaderReader::fill(uint64_t at) {
  uint64_t want = std::min<uint64_t>(buf_.size(), file_size_ - at);
  uint64_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd_, buf_.data() + got, want - got, static_cast<off_t>(at + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io(name_ + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) break;  // the file shrank under us; reported as truncation by read()
    got += static_cast<uint64_t>(n);
  }
  buf_start_ = at;
  buf_len_ = got;
  return {};
}

Status HeaderReader::read(void* dst, uint64_t n, const char* what) {
  if (n > remaining())
    return format_error("truncated: " + std::string(what) + " needs " + std::to_string(n) +
                        " bytes at offset " + std::to_string(pos_) + " but the file has " +
                        std::to_string(remaining()) + " left");
  auto* out = static_cast<uint8_t*>(dst);
  if (fd_ < 0) {
    if (n) std::memcpy(out, mem_.data() + pos_, n);
    pos_ += n;
    return {};
  }
  while (n > 0) {
    if (pos_ < buf_start_ || pos_ >= buf_start_ + buf_len_) {
      MS_TRY(fill(pos_));
      if (buf_len_ == 0)
        return format_error("truncated: file ended while reading " + std::string(what));
    }
    uint64_t off = pos_ - buf_start_;
    uint64_t take = std::min(n, buf_len_ - off);
    std::memcpy(out, buf_.data() + off, take);
    out += take;
    pos_ += take;
    n -= take;
  }
  return {};
}

Status HeaderReader::read_string(std::string& out, uint64_t len, const char* what) {
  if (len > remaining())
    return format_error(std::string(what) + " claims " + std::to_string(len) +
                        " bytes at offset " + std::to_string(pos_) + " but only " +
                        std::to_string(remaining()) + " remain in the file");
  out.resize(len);
  return read(out.data(), len, what);
}

}  // namespace modelswarm::format
