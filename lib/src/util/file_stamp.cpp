#include "modelswarm/file_stamp.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace modelswarm {

Result<FileStamp> stamp_file(const std::filesystem::path& dir, const std::string& rel) {
  std::filesystem::path full = dir / rel;
  struct stat st {};
  if (::lstat(full.c_str(), &st) != 0) return Error::io(full.string() + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Error::io(full.string() + ": not a regular file");
  FileStamp s;
  s.path = rel;
  s.size = static_cast<std::uint64_t>(st.st_size);
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  s.inode = static_cast<std::uint64_t>(st.st_ino);
  s.device = static_cast<std::uint64_t>(st.st_dev);
  return s;
}

std::vector<FileStamp> still_unchanged(const std::filesystem::path& dir, const std::vector<FileStamp>& before) {
  std::vector<FileStamp> out;
  for (const auto& b : before) {
    auto now = stamp_file(dir, b.path);
    if (now.ok() && now->same_file_state(b)) out.push_back(b);
  }
  return out;
}

}  // namespace modelswarm
