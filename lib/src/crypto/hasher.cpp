#include "modelswarm/hasher.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "modelswarm/merkle.hpp"

namespace modelswarm {

namespace {

// Read-only mapping of one file; unmapped on destruction.
struct Mapping {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data) ::munmap(const_cast<uint8_t*>(data), size);
  }
};

Status map_file(const std::filesystem::path& path, uint64_t expected, Mapping& m) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Error::io(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::io(path.string() + ": not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) != expected) {
    ::close(fd);
    return Error::content(path.string() + ": size is " + std::to_string(st.st_size) +
                          " bytes, expected " + std::to_string(expected));
  }
  if (expected > 0) {
    void* p = ::mmap(nullptr, expected, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      std::string e = std::strerror(errno);
      ::close(fd);
      return Error::io(path.string() + ": mmap failed: " + e);
    }
    ::madvise(p, expected, MADV_WILLNEED);
    m.data = static_cast<const uint8_t*>(p);
    m.size = expected;
  }
  ::close(fd);
  return Status::success();
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
constexpr uint64_t kSliceBytes = 1u << 20;     // progress/cancel granularity in long ranges

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

  std::vector<Mapping> maps(nfiles);
  for (size_t i = 0; i < nfiles; ++i) MS_TRY(map_file(plan.files[i], plan.expected_sizes[i], maps[i]));

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
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= jobs.size() || stop()) return;
      const Job& j = jobs[i];
      const uint8_t* base = maps[j.file].data;
      if (j.kind == Job::range) {
        for (uint64_t pos = j.begin; pos < j.end; pos += kSliceBytes) {
          uint64_t n = std::min(kSliceBytes, j.end - pos);
          h.update(base + pos, n);
          report(n);
          if (stop()) return;
        }
        digests[j.slot] = h.finish();
      } else {
        uint64_t size = plan.expected_sizes[j.file];
        auto& leaves = out.leaves[j.file];
        for (uint64_t b = j.begin; b < j.end; ++b) {
          uint64_t off = b * kMerkleBlockSize;
          h.update(base + off, std::min(kMerkleBlockSize, size - off));
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
  if (cancelled) return Error::interrupted("hashing interrupted");

  out.range_digests.resize(plan.ranges.size());
  for (size_t i = 0; i < plan.ranges.size(); ++i) out.range_digests[i] = digests[slot_of[i]];
  return out;
}

}  // namespace modelswarm
