// Parallel hashing of many files in one plan: SHA-256 of arbitrary byte ranges (chunks, whole
// files) and, optionally, the BitTorrent v2 leaf hashes of whole files. The work is split into
// jobs that all cores take from one queue, largest first, so a release is hashed at close to
// (cores x single-thread SHA-256 speed). Data is read with large preads (no mmap, so a file
// truncated meanwhile is an error rather than SIGBUS).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/sha256.hpp"

namespace modelswarm {

struct HashRange {
  uint32_t file = 0;    // index into HashPlan::files
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct HashPlan {
  std::vector<std::filesystem::path> files;
  // Each file must have exactly this size when opened (else a content error naming it).
  std::vector<uint64_t> expected_sizes;
  // SHA-256 of each range. Identical ranges are hashed once.
  std::vector<HashRange> ranges;
  // Per file: also compute its v2 merkle leaves (16 KiB SHA-256 blocks).
  std::vector<bool> merkle;
};

struct HashOptions {
  unsigned threads = 0;  // 0: all cores (worker_threads, parallel_jobs.hpp)
  // Called from every worker thread, one call at a time and with `done` increasing, with the
  // bytes hashed so far (sum over all jobs; a byte that two digests need counts twice) and the
  // total; called often (every MiB).
  std::function<void(uint64_t done, uint64_t total)> progress;
  const std::atomic<bool>* cancel = nullptr;  // set to stop early (interrupted error)
};

struct HashResults {
  std::vector<Sha256Digest> range_digests;           // parallel to plan.ranges
  std::vector<std::vector<Sha256Digest>> leaves;     // per file; empty unless plan.merkle[i]
};

// Errors: io (open/read/mmap), content (a file's size differs from expected_sizes),
// interrupted, invalid_argument (a range outside its file).
Result<HashResults> hash_plan(const HashPlan& plan, const HashOptions& options = {});

}  // namespace modelswarm
