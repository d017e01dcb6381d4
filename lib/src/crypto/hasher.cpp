#include "crypto/hasher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include "crypto/merkle.hpp"

namespace modelswarm {

namespace {

// An open file, closed on destruction. Data is read with pread into per-thread buffers rather
// than memory-mapped: a file truncated while it is hashed then gives an error, not SIGBUS.
struct OpenFile {
  int fd = -1;
  OpenFile() = default;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

Status open_file(const std::filesystem::path& path, uint64_t expected, OpenFile& f) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Error::io(path.string() + ": cannot open: " + std::strerror(errno));
  f.fd = fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error::io(path.string() + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) != expected)
    return Error::content(path.string() + ": size is " + std::to_string(st.st_size) +
                          " bytes, expected " + std::to_string(expected));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return Status::success();
}

// Reads exactly `n` bytes at `off`. Returns 0, the errno of a failed read (the disk: an I/O
// error), or -1 when the file ended early (it shrank: a content problem).
int read_exact(int fd, uint8_t* buf, uint64_t n, uint64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) return -1;
    buf += r;
    n -= static_cast<uint64_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return 0;
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

}  // namespace

Result<HashResults> hash_plan(const HashPlan& plan, const HashOptions& options) {
  const size_t nfiles = plan.files.size();
  if (plan.expected_sizes.size() != nfiles || (!plan.merkle.empty() && plan.merkle.size() != nfiles))
    return Error::invalid_argument("hash plan: per-file vectors differ in length");
  for (const HashRange& r : plan.ranges) {
    if (r.file >= nfiles || r.offset > plan.expected_sizes[r.file] ||
        r.size > plan.expected_sizes[r.file] - r.offset)
      return Error::invalid_argument("hash plan: range outside its file");
  }

  std::vector<OpenFile> files(nfiles);
  for (size_t i = 0; i < nfiles; ++i) MS_TRY(open_file(plan.files[i], plan.expected_sizes[i], files[i]));

  // Identical ranges (a non-model file's chunk is the whole file) are hashed once.
  std::map<std::tuple<uint32_t, uint64_t, uint64_t>, uint32_t> unique;
  std::vector<uint32_t> slot_of(plan.ranges.size());
  std::vector<Job> jobs;
  for (size_t i = 0; i < plan.ranges.size(); ++i) {
    const HashRange& r = plan.ranges[i];
    auto [it, inserted] = unique.emplace(std::make_tuple(r.file, r.offset, r.size),
                                         static_cast<uint32_t>(unique.size()));
    slot_of[i] = it->second;
    if (inserted) jobs.push_back({Job::range, r.file, r.offset, r.offset + r.size, it->second, r.size});
  }
  // Long sequential hashes first, then the freely divisible leaf work fills the gaps.
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.bytes > b.bytes; });

  HashResults out;
  out.leaves.resize(nfiles);
  for (size_t f = 0; f < nfiles; ++f) {
    if (plan.merkle.empty() || !plan.merkle[f]) continue;
    uint64_t n = merkle_leaf_count(plan.expected_sizes[f]);
    out.leaves[f].resize(n);
    for (uint64_t b = 0; b < n; b += kLeafJobLeaves) {
      uint64_t e = std::min(n, b + kLeafJobLeaves);
      uint64_t bytes = std::min(plan.expected_sizes[f], e * kMerkleBlockSize) - b * kMerkleBlockSize;
      jobs.push_back({Job::leaves, static_cast<uint32_t>(f), b, e, 0, bytes});
    }
  }

  uint64_t total = 0;
  for (const Job& j : jobs) total += j.bytes;
  std::vector<Sha256Digest> digests(unique.size());
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done{0};
  std::atomic<bool> cancelled{false};
  std::mutex progress_mu;
  std::mutex error_mu;
  std::optional<Error> read_error;
  auto fail_read = [&](uint32_t file, int err) {
    std::lock_guard<std::mutex> lock(error_mu);
    if (!read_error)
      read_error = err > 0 ? Error::io(plan.files[file].string() + ": read failed: " + std::strerror(err))
                           : Error::content(plan.files[file].string() + ": the file shrank while being hashed");
    cancelled = true;
  };

  auto report = [&](uint64_t n) {
    uint64_t d = done.fetch_add(n) + n;
    if (options.progress) {
      std::lock_guard<std::mutex> lock(progress_mu);
      options.progress(d, total);
    }
  };
  auto stop = [&] {
    if (options.cancel && options.cancel->load(std::memory_order_relaxed)) cancelled = true;
    return cancelled.load(std::memory_order_relaxed);
  };

  auto worker = [&] {
    Sha256 h;
    std::vector<uint8_t> buf(kLeafJobLeaves * kMerkleBlockSize);
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= jobs.size() || stop()) return;
      const Job& j = jobs[i];
      int fd = files[j.file].fd;
      if (j.kind == Job::range) {
        for (uint64_t pos = j.begin; pos < j.end; pos += kSliceBytes) {
          uint64_t n = std::min(kSliceBytes, j.end - pos);
          if (int err = read_exact(fd, buf.data(), n, pos)) return fail_read(j.file, err);
          h.update(buf.data(), n);
          report(n);
          if (stop()) return;
        }
        digests[j.slot] = h.finish();
      } else {
        uint64_t size = plan.expected_sizes[j.file];
        uint64_t first = j.begin * kMerkleBlockSize;
        if (int err = read_exact(fd, buf.data(), j.bytes, first)) return fail_read(j.file, err);
        auto& leaves = out.leaves[j.file];
        for (uint64_t b = j.begin; b < j.end; ++b) {
          uint64_t off = b * kMerkleBlockSize;
          h.update(buf.data() + (off - first), std::min(kMerkleBlockSize, size - off));
          leaves[b] = h.finish();
        }
        report(j.bytes);
      }
    }
  };

  unsigned nthreads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  nthreads = static_cast<unsigned>(std::min<size_t>(nthreads, std::max<size_t>(1, jobs.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < nthreads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (read_error) return *read_error;
  if (cancelled) return Error::interrupted("hashing interrupted");

  out.range_digests.resize(plan.ranges.size());
  for (size_t i = 0; i < plan.ranges.size(); ++i) out.range_digests[i] = digests[slot_of[i]];
  return out;
}

}  // namespace modelswarm
