// Fetch staging areas and their garbage collection.
//
// A fetch stages a release in OUT/.modelswarm-partial/<info-hash>/ with its resume data in
// OUT/.modelswarm-partial/<info-hash>.resume (see swarm.hpp). While it runs it holds an
// exclusive flock on OUT/.modelswarm-partial/<info-hash>.lock, and OUT is recorded under
// state_dir()/staging/ so that `gc` can find leftovers without being told where to look.
// A fetch that was killed leaves its staging (resumable) and no lock holder; gc removes such
// leftovers, never one whose lock is held.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm {

inline constexpr std::string_view kPartialDirName = ".modelswarm-partial";

// Held by a running fetch: the lock on its staging area. Movable; releases the lock (and
// removes the lock file when `finished()` was called) on destruction.
class StagingLease {
 public:
  // Locks OUT/.modelswarm-partial/<info_hash>.lock (creating the directory) and records OUT.
  // Errors: invalid_argument when another process holds the lock (a fetch of the same release
  // into the same directory is running), io otherwise.
  static Result<StagingLease> acquire(const std::filesystem::path& out_dir, const std::string& info_hash);

  StagingLease() = default;
  StagingLease(StagingLease&& o) noexcept;
  StagingLease& operator=(StagingLease&& o) noexcept;
  StagingLease(const StagingLease&) = delete;
  StagingLease& operator=(const StagingLease&) = delete;
  ~StagingLease();

  // The staging was moved into place or removed: drop the lock file too.
  void finished() { finished_ = true; }

 private:
  void release();
  int fd_ = -1;
  std::filesystem::path lock_path_;
  bool finished_ = false;
};

struct GcOptions {
  // More fetch output directories to clean (their .modelswarm-partial/), beyond those recorded
  // by fetches and the parents of registered releases.
  std::vector<std::filesystem::path> dirs;
  bool dry_run = false;        // report what would be removed, remove nothing
  bool prune_registry = true;  // drop registry entries whose manifest file is gone
};

struct GcItem {
  enum class Kind { staging, resume, lock, registry_entry };
  Kind kind;
  std::filesystem::path path;
  uint64_t bytes = 0;  // disk bytes freed (allocated blocks, so sparse files count what they use)
};
std::string_view gc_item_kind_name(GcItem::Kind k);

struct GcReport {
  std::vector<GcItem> removed;           // or, with dry_run, that would be removed
  std::vector<std::filesystem::path> in_use;  // staging areas of running fetches, left alone
  std::vector<std::string> warnings;     // things that could not be removed, one line each
  uint64_t bytes = 0;
};

// Removes staging leftovers of interrupted fetches and stale registry entries. Errors: io only
// when the state directory cannot be read; per-item failures are warnings.
Result<GcReport> collect_garbage(const GcOptions& options = {});

}  // namespace modelswarm
