#include "format/header_reader.hpp"

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
  MS_ASSIGN_OR_RETURN(r.fd_, file_io::open_read(path));
  MS_ASSIGN_OR_RETURN(r.file_size_, file_io::file_size(r.fd_.get(), path));
  r.buf_.resize(std::min<uint64_t>(kWindow, std::max<uint64_t>(r.file_size_, 1)));
  return r;
}

HeaderReader::HeaderReader(std::span<const uint8_t> bytes, uint64_t file_size, std::string name)
    : name_(std::move(name)), file_size_(std::max<uint64_t>(file_size, bytes.size())), mem_(bytes) {}

Error HeaderReader::format_error(const std::string& problem) const {
  return Error::format(name_ + ": " + problem);
}

Status HeaderReader::fill(uint64_t at) {
  uint64_t want = std::min<uint64_t>(buf_.size(), file_size_ - at);
  // A file that shrank under us gives fewer bytes; read() reports that as truncation.
  MS_ASSIGN_OR_RETURN(size_t got, file_io::pread_upto(fd_.get(), std::span(buf_.data(), want), at, name_));
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
  if (fd_.get() < 0) {
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
