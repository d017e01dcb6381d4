// The lock a running fetch holds on its staging area, and the record of where it stages.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "modelswarm/paths.hpp"
#include "modelswarm/sha256.hpp"
#include "modelswarm/staging.hpp"
#include "store/staging_records.hpp"

namespace modelswarm {

namespace fs = std::filesystem;

namespace store {

fs::path staging_records_dir() { return state_dir() / "staging"; }

Status record_out_dir(const fs::path& out_dir) {
  std::error_code ec;
  fs::path abs = fs::absolute(out_dir, ec).lexically_normal();
  if (ec) return Error::io(out_dir.string() + ": " + ec.message());
  MS_TRY(ensure_state_dir());
  fs::create_directories(staging_records_dir(), ec);
  if (ec) return Error::io(staging_records_dir().string() + ": cannot create: " + ec.message());
  auto digest = sha256(abs.string());
  fs::path rec = staging_records_dir() / (to_hex(digest).substr(0, 16) + ".json");
  if (fs::exists(rec, ec)) return Status::success();
  return write_file_atomic(rec, nlohmann::json{{"out_dir", abs.string()}}.dump() + "\n");
}

}  // namespace store

Result<StagingLease> StagingLease::acquire(const fs::path& out_dir, const std::string& info_hash) {
  fs::path partial = out_dir / std::string(kPartialDirName);
  std::error_code ec;
  fs::create_directories(partial, ec);
  if (ec) return Error::io(partial.string() + ": cannot create: " + ec.message());
  StagingLease lease;
  lease.lock_path_ = partial / (info_hash + ".lock");
  // gc unlinks a lock file it managed to lock; a lock taken on such an unlinked file protects
  // nothing, so retry until the locked file is the one at the path.
  for (int attempt = 0; attempt < 10; ++attempt) {
    int fd = ::open(lease.lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return Error::io(lease.lock_path_.string() + ": cannot open: " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      ::close(fd);
      if (e == EWOULDBLOCK)
        return Error::invalid_argument(out_dir.string() + ": another fetch of this release into this directory is running");
      return Error::io(lease.lock_path_.string() + ": cannot lock: " + std::strerror(e));
    }
    struct stat a {}, b {};
    if (::fstat(fd, &a) == 0 && ::stat(lease.lock_path_.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev) {
      lease.fd_ = fd;
      // Not fatal: without the record, gc still finds the directory as the parent of the
      // registered release, or when named on its command line.
      (void)store::record_out_dir(out_dir);
      return lease;
    }
    ::close(fd);
  }
  return Error::io(lease.lock_path_.string() + ": keeps being removed while locking");
}

StagingLease::StagingLease(StagingLease&& o) noexcept
    : fd_(o.fd_), lock_path_(std::move(o.lock_path_)), finished_(o.finished_) {
  o.fd_ = -1;
}

StagingLease& StagingLease::operator=(StagingLease&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    lock_path_ = std::move(o.lock_path_);
    finished_ = o.finished_;
    o.fd_ = -1;
  }
  return *this;
}

StagingLease::~StagingLease() { release(); }

void StagingLease::release() {
  if (fd_ < 0) return;
  if (finished_) {
    ::unlink(lock_path_.c_str());
    // The partial directory goes when this was the last staging in it.
    ::rmdir(lock_path_.parent_path().c_str());
  }
  ::close(fd_);
  fd_ = -1;
}

}  // namespace modelswarm
