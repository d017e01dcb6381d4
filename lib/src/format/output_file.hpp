// A file written under a temporary name in the destination directory and renamed into place
// only by commit(), so a crash or an error never leaves a half-written file under the final
// name. Writes are buffered; commit() flushes and fsyncs first.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm::format {

class OutputFile {
 public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();  // removes the temporary file unless committed

  Status open(const std::filesystem::path& final_path);
  bool is_open() const { return fd_ >= 0; }
  Status write(const void* data, size_t n);
  Status write(std::span<const uint8_t> b) { return write(b.data(), b.size()); }
  Status write_zeros(uint64_t n);
  uint64_t position() const { return written_; }
  Status commit();
  void abandon();  // close and remove the temporary file

 private:
  Status flush();
  Status write_all(const uint8_t* p, size_t n);

  std::filesystem::path final_, temp_;
  int fd_ = -1;
  uint64_t written_ = 0;
  std::vector<uint8_t> buf_;
};

}  // namespace modelswarm::format
