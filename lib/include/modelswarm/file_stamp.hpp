// What proves a file unchanged since it was hashed, without reading it again: its size, mtime,
// ctime, inode and device, as BitTorrent clients keep in their resume data. Writing a file
// changes its ctime, and no user-space call can set a ctime back, so a file whose stamp still
// matches holds the bytes it held when the stamp was taken.
//
// The stamp of a file is taken *before* it is hashed, and recorded only if it is the same
// after the hash: a write during the hash then leaves the file unrecorded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm {

struct FileStamp {
  std::string path;  // relative to the release directory, '/'-separated
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  // Every field but the path: a stamp taken later of the same unchanged file compares equal.
  bool same_file_state(const FileStamp& o) const {
    return size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns && inode == o.inode &&
           device == o.device;
  }
};

// The stamp of dir/rel, without following a final symbolic link (a link is an io error: only
// regular files are stamped).
Result<FileStamp> stamp_file(const std::filesystem::path& dir, const std::string& rel);

// Of `before` (stamps taken before hashing), those whose file still has the same stamp.
std::vector<FileStamp> still_unchanged(const std::filesystem::path& dir, const std::vector<FileStamp>& before);

}  // namespace modelswarm
