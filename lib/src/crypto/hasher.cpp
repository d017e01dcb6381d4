#include "crypto/hasher.hpp"

#include <fcntl.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "crypto/merkle.hpp"
#include "util/file_io.hpp"
#include "util/parallel_jobs.hpp"

namespace modelswarm {

namespace {

// Files are read with pread into per-thread buffers rather than memory-mapped: a file truncated
// while it is hashed then gives an error, not SIGBUS. A release's files are opened without
// following links.
Result<file_io::Fd> open_file(const std::filesystem::path& path, uint64_t expected) {
  MS_ASSIGN_OR_RETURN(file_io::Fd fd, file_io::open_read(path, file_io::Links::refuse));
  MS_ASSIGN_OR_RETURN(uint64_t size, file_io::file_size(fd.get(), path));
  if (size != expected)
    return Error::content(path.string() + ": size is " + std::to_string(size) + " bytes, expected " +
                          std::to_string(expected));
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

// Reads exactly `n` bytes at `off`: a failed read is an io error, a file that ended early shrank
// while it was hashed (a content problem).
Status read_exact(int fd, uint8_t* buf, uint64_t n, uint64_t off, const std::filesystem::path& path) {
  MS_ASSIGN_OR_RETURN(size_t got, file_io::pread_upto(fd, std::span(buf, n), off, path.string()));
  if (got < n) return Error::content(path.string() + ": the file shrank while being hashed");
  return {};
}

// A unit of work one thread does start to finish.
struct Job {
  enum Kind { range, leaves } kind;
  uint32_t file;
  uint64_t begin;  // byte offset (range) or first leaf index (leaves)
  uint64_t end;    // exclusive
  uint32_t slot;   // unique range index for range jobs
  uint64_t bytes;  // work, for scheduling
};

constexpr uint64_t kLeafJobLeaves = 256;       // 4 MiB of leaves per job
constexpr uint64_t kSliceBytes = 1u << 20;     // read size and progress/cancel granularity

Status check_plan(const HashPlan& plan) {
  const size_t nfiles = plan.files.size();
  if (plan.expected_sizes.size() != nfiles || (!plan.merkle.empty() && plan.merkle.size() != nfiles))
    return Error::invalid_argument("hash plan: per-file vectors differ in length");
  for (const HashRange& r : plan.ranges) {
    if (r.file >= nfiles || r.offset > plan.expected_sizes[r.file] ||
        r.size > plan.expected_sizes[r.file] - r.offset)
      return Error::invalid_argument("hash plan: range outside its file");
  }
  return {};
}

// The jobs of a plan: one per distinct range, then the leaf hashes in pieces of kLeafJobLeaves.
struct Schedule {
  std::vector<Job> jobs;
  std::vector<uint32_t> slot_of;  // per plan range: its distinct range's digest slot
  size_t slots = 0;
  uint64_t total_bytes = 0;
};

Schedule schedule(const HashPlan& plan) {
  Schedule s;
  // Identical ranges (a non-model file's chunk is the whole file) are hashed once.
  std::map<std::tuple<uint32_t, uint64_t, uint64_t>, uint32_t> unique;
  s.slot_of.resize(plan.ranges.size());
  for (size_t i = 0; i < plan.ranges.size(); ++i) {
    const HashRange& r = plan.ranges[i];
    auto [it, inserted] = unique.emplace(std::make_tuple(r.file, r.offset, r.size),
                                         static_cast<uint32_t>(unique.size()));
    s.slot_of[i] = it->second;
    if (inserted) s.jobs.push_back({Job::range, r.file, r.offset, r.offset + r.size, it->second, r.size});
  }
  s.slots = unique.size();
  // Long sequential hashes first, then the freely divisible leaf work fills the gaps.
  std::stable_sort(s.jobs.begin(), s.jobs.end(), [](const Job& a, const Job& b) { return a.bytes > b.bytes; });
  for (size_t f = 0; f < plan.files.size(); ++f) {
    if (plan.merkle.empty() || !plan.merkle[f]) continue;
    uint64_t n = merkle_leaf_count(plan.expected_sizes[f]);
    for (uint64_t b = 0; b < n; b += kLeafJobLeaves) {
      uint64_t e = std::min(n, b + kLeafJobLeaves);
      uint64_t bytes = std::min(plan.expected_sizes[f], e * kMerkleBlockSize) - b * kMerkleBlockSize;
      s.jobs.push_back({Job::leaves, static_cast<uint32_t>(f), b, e, 0, bytes});
    }
  }
  for (const Job& j : s.jobs) s.total_bytes += j.bytes;
  return s;
}

// What one thread keeps from job to job.
struct Worker {
  Sha256 h;
  std::vector<uint8_t> buf = std::vector<uint8_t>(kLeafJobLeaves * kMerkleBlockSize);
};

// One range's SHA-256, read a slice at a time so that progress and cancellation stay prompt.
Status hash_range(const Job& j, int fd, const std::filesystem::path& path, Worker& w,
                  ProgressCounter& progress, ParallelJobs& run, Sha256Digest& digest) {
  for (uint64_t pos = j.begin; pos < j.end; pos += kSliceBytes) {
    uint64_t n = std::min(kSliceBytes, j.end - pos);
    MS_TRY(read_exact(fd, w.buf.data(), n, pos, path));
    w.h.update(w.buf.data(), n);
    progress.add(n);
    if (run.stopped()) return {};
  }
  digest = w.h.finish();
  return {};
}

// The v2 leaves [j.begin, j.end) of a file, read in one go (kLeafJobLeaves blocks).
Status hash_leaves(const Job& j, int fd, const std::filesystem::path& path, uint64_t size, Worker& w,
                   ProgressCounter& progress, std::vector<Sha256Digest>& leaves) {
  uint64_t first = j.begin * kMerkleBlockSize;
  MS_TRY(read_exact(fd, w.buf.data(), j.bytes, first, path));
  for (uint64_t b = j.begin; b < j.end; ++b) {
    uint64_t off = b * kMerkleBlockSize;
    w.h.update(w.buf.data() + (off - first), std::min(kMerkleBlockSize, size - off));
    leaves[b] = w.h.finish();
  }
  progress.add(j.bytes);
  return {};
}

}  // namespace

Result<HashResults> hash_plan(const HashPlan& plan, const HashOptions& options) {
  MS_TRY(check_plan(plan));
  std::vector<file_io::Fd> files;
  for (size_t i = 0; i < plan.files.size(); ++i) {
    MS_ASSIGN_OR_RETURN(file_io::Fd fd, open_file(plan.files[i], plan.expected_sizes[i]));
    files.push_back(std::move(fd));
  }

  Schedule sched = schedule(plan);
  HashResults out;
  out.leaves.resize(plan.files.size());
  for (size_t f = 0; f < plan.files.size(); ++f)
    if (!plan.merkle.empty() && plan.merkle[f]) out.leaves[f].resize(merkle_leaf_count(plan.expected_sizes[f]));

  std::vector<Sha256Digest> digests(sched.slots);
  ProgressCounter progress(options.progress, sched.total_bytes);
  ParallelJobs run(sched.jobs.size(), options.threads, options.cancel, "hashing interrupted");
  MS_TRY(run.run<Worker>([&](size_t i, Worker& w) -> Status {
    const Job& j = sched.jobs[i];
    const int fd = files[j.file].get();
    if (j.kind == Job::range) return hash_range(j, fd, plan.files[j.file], w, progress, run, digests[j.slot]);
    return hash_leaves(j, fd, plan.files[j.file], plan.expected_sizes[j.file], w, progress, out.leaves[j.file]);
  }));

  out.range_digests.resize(plan.ranges.size());
  for (size_t i = 0; i < plan.ranges.size(); ++i) out.range_digests[i] = digests[sched.slot_of[i]];
  return out;
}

}  // namespace modelswarm
