// The reuse engine: index the sources' chunks by SHA-256, then copy every chunk of the target
// that a source holds, largest first, on all cores. See store.hpp for the contract.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include "modelswarm/store.hpp"
#include "store/digest_hash.hpp"
#include "store/range_copy.hpp"
#include "util/file_io.hpp"
#include "util/parallel_jobs.hpp"

namespace modelswarm {

namespace fs = std::filesystem;
using store::CopyContext;
using store::CopyOutcome;
using file_io::Fd;
using store::RangeFile;

namespace {

constexpr size_t kMaxWarnings = 20;

struct Candidate {
  size_t source;
  size_t file;
  uint64_t offset;
};

struct Job {
  size_t file;         // target file index
  const Chunk* chunk;
  const std::vector<Candidate>* candidates;
};

struct JobResult {
  bool reused = false;
  bool cloned = false;
  uint64_t rejected = 0;
  uint64_t bytes_read = 0;
};

// Old files, opened on first use and shared by all workers. A file that cannot be opened, or
// that is the target file itself (a hard link), is remembered as unusable.
class SourceFiles {
 public:
  SourceFiles(const std::vector<ReuseSource>& sources, std::vector<std::pair<dev_t, ino_t>> targets)
      : sources_(sources), targets_(std::move(targets)) {}

  // nullptr when unusable; `why` gets a one-line reason the first time.
  const RangeFile* get(size_t source, size_t file, std::string* why) {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_pair(source, file);
    auto it = open_.find(key);
    if (it != open_.end()) return it->second.file.fd >= 0 ? &it->second.file : nullptr;
    Entry& e = open_[key];
    fs::path p = sources_[source].dir / sources_[source].manifest.files[file].path;
    e.file.name = p.string();
    auto fd = file_io::open_read(p);
    Result<struct stat> st = fd.ok() ? file_io::stat_regular(fd->get(), p) : Result<struct stat>(fd.error());
    if (!st.ok()) {
      if (why) *why = st.error().message + "; its chunks are not reused";
      return nullptr;
    }
    for (const auto& t : targets_)
      if (t.first == st->st_dev && t.second == st->st_ino) return nullptr;
    e.file.fd = fd->get();
    e.fd = std::move(*fd);
    e.file.size = static_cast<uint64_t>(st->st_size);
    return &e.file;
  }

 private:
  struct Entry {
    Fd fd;
    RangeFile file;
  };
  const std::vector<ReuseSource>& sources_;
  std::vector<std::pair<dev_t, ino_t>> targets_;
  std::mutex mu_;
  std::map<std::pair<size_t, size_t>, Entry> open_;
};

struct TargetFile {
  Fd fd;
  RangeFile file;
  uint64_t block = 0;  // filesystem block size, for clone alignment
};

Result<TargetFile> open_target(const fs::path& path, uint64_t size) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Error::io(path.parent_path().string() + ": cannot create: " + ec.message());
  MS_ASSIGN_OR_RETURN(Fd fd, file_io::open_write(path));
  MS_ASSIGN_OR_RETURN(struct stat st, file_io::stat_regular(fd.get(), path));
  if (static_cast<uint64_t>(st.st_size) != size && ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return Error::io(path.string() + ": cannot set its size: " + file_io::errno_text());
  TargetFile t;
  t.fd = std::move(fd);
  t.file.fd = t.fd.get();
  t.file.size = size;
  t.file.name = path.string();
  t.block = st.st_blksize > 0 ? static_cast<uint64_t>(st.st_blksize) : 4096;
  return t;
}

using ChunkIndex = std::unordered_map<Sha256Digest, std::vector<Candidate>, store::DigestHash>;

// Every non-empty chunk of every source, by SHA-256.
ChunkIndex index_sources(const std::vector<ReuseSource>& sources) {
  ChunkIndex index;
  for (size_t s = 0; s < sources.size(); ++s)
    for (size_t f = 0; f < sources[s].manifest.files.size(); ++f)
      for (const auto& c : sources[s].manifest.files[f].chunks)
        if (c.size > 0) index[c.sha256].push_back({s, f, c.offset});
  return index;
}

// The target's chunks a source holds and the target does not, largest first. Chunks already
// present go straight into the report.
std::vector<Job> plan_jobs(const Manifest& target, const ChunkIndex& index, const ReuseOptions& o,
                           ReuseReport& rep, uint64_t& total) {
  std::vector<Job> jobs;
  for (size_t f = 0; f < target.files.size(); ++f) {
    for (const auto& c : target.files[f].chunks) {
      if (c.size == 0) continue;
      ++rep.chunks_total;
      if (o.already_present && o.already_present(f, c)) {
        ++rep.chunks_present;
        rep.present[f].push_back({c.offset, c.size});
        continue;
      }
      auto it = index.find(c.sha256);
      if (it == index.end()) continue;
      jobs.push_back({f, &c, &it->second});
      total += c.size;
    }
  }
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const Job& a, const Job& b) { return a.chunk->size > b.chunk->size; });
  return jobs;
}

// Opens (creating, at full size) the target files some job writes into; `ids` gets their
// device and inode, so that a source that is one of them (a hard link) is never read.
Result<std::vector<TargetFile>> open_targets(const Manifest& target, const fs::path& target_dir,
                                             const std::vector<Job>& jobs,
                                             std::vector<std::pair<dev_t, ino_t>>& ids) {
  std::vector<bool> has_job(target.files.size(), false);
  for (const Job& j : jobs) has_job[j.file] = true;
  std::vector<TargetFile> targets(target.files.size());
  for (size_t f = 0; f < target.files.size(); ++f) {
    if (!has_job[f]) continue;
    MS_ASSIGN_OR_RETURN(targets[f], open_target(target_dir / target.files[f].path, target.files[f].size));
    struct stat st {};
    if (::fstat(targets[f].file.fd, &st) == 0) ids.push_back({st.st_dev, st.st_ino});
  }
  return targets;
}

// Tries a job's candidates in turn until one copies (or clones) with the right SHA-256.
class ChunkCopier {
 public:
  ChunkCopier(const std::vector<TargetFile>& targets, SourceFiles& sources, const ReuseOptions& o)
      : targets_(targets), sources_(sources), reflink_ok_(o.reflink), cancel_(o.cancel) {}

  Status copy(const Job& job, CopyContext& ctx, JobResult& r) {
    ctx.reflink_ok = &reflink_ok_;
    ctx.cancel = cancel_;
    const TargetFile& dst = targets_[job.file];
    for (const Candidate& cand : *job.candidates) {
      std::string why;
      const RangeFile* src = sources_.get(cand.source, cand.file, &why);
      if (!src) {
        if (!why.empty()) warn(std::move(why));
        continue;
      }
      MS_ASSIGN_OR_RETURN(CopyOutcome out, store::copy_checked(*src, cand.offset, dst.file, job.chunk->offset,
                                                               job.chunk->size, job.chunk->sha256, dst.block, ctx));
      r.bytes_read += out.bytes_read;
      if (out.kind == CopyOutcome::Kind::copied || out.kind == CopyOutcome::Kind::cloned) {
        r.reused = true;
        r.cloned = out.kind == CopyOutcome::Kind::cloned;
        return {};
      }
      ++r.rejected;
      warn(src->name + ": chunk '" + job.chunk->name + "' at offset " + std::to_string(cand.offset) +
           (out.kind == CopyOutcome::Kind::short_source ? " cannot be read" : " does not match its SHA-256") +
           "; not reused");
    }
    return {};
  }

  std::vector<std::string> take_warnings() { return std::move(warnings_); }

 private:
  void warn(std::string w) {
    std::lock_guard<std::mutex> lock(mu_);
    warnings_.push_back(std::move(w));
  }

  const std::vector<TargetFile>& targets_;
  SourceFiles& sources_;
  std::atomic<bool> reflink_ok_;  // cleared for the whole run when the filesystem refuses clones
  const std::atomic<bool>* cancel_;
  std::mutex mu_;
  std::vector<std::string> warnings_;
};

// Adds the jobs' outcomes to the report, sorts each file's present ranges and caps the warnings.
void tally(const std::vector<Job>& jobs, const std::vector<JobResult>& results, std::vector<std::string> warnings,
           ReuseReport& rep) {
  for (size_t j = 0; j < jobs.size(); ++j) {
    const JobResult& r = results[j];
    rep.chunks_rejected += r.rejected;
    rep.bytes_read += r.bytes_read;
    if (!r.reused) continue;
    ++rep.chunks_reused;
    rep.bytes_reused += jobs[j].chunk->size;
    if (r.cloned) rep.bytes_reflinked += jobs[j].chunk->size;
    rep.present[jobs[j].file].push_back({jobs[j].chunk->offset, jobs[j].chunk->size});
  }
  for (auto& v : rep.present)
    std::sort(v.begin(), v.end(), [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  rep.warnings = std::move(warnings);
  if (rep.warnings.size() > kMaxWarnings) {
    size_t more = rep.warnings.size() - kMaxWarnings;
    rep.warnings.resize(kMaxWarnings);
    rep.warnings.push_back("... and " + std::to_string(more) + " more");
  }
}

}  // namespace

Result<ReuseReport> reuse_chunks(const Manifest& target, const fs::path& target_dir,
                                 const std::vector<ReuseSource>& sources, const ReuseOptions& o) {
  ReuseReport rep;
  rep.present.resize(target.files.size());
  const ChunkIndex index = index_sources(sources);
  uint64_t total = 0;
  const std::vector<Job> jobs = plan_jobs(target, index, o, rep, total);

  std::vector<std::pair<dev_t, ino_t>> target_ids;
  MS_ASSIGN_OR_RETURN(std::vector<TargetFile> targets, open_targets(target, target_dir, jobs, target_ids));
  SourceFiles source_files(sources, std::move(target_ids));
  ChunkCopier copier(targets, source_files, o);

  std::vector<JobResult> results(jobs.size());
  ProgressCounter progress(o.progress, total);
  ParallelJobs run(jobs.size(), o.threads, o.cancel, "reuse interrupted");
  MS_TRY(run.run<CopyContext>([&](size_t j, CopyContext& ctx) -> Status {
    MS_TRY(copier.copy(jobs[j], ctx, results[j]));
    progress.add(jobs[j].chunk->size);
    return {};
  }));
  tally(jobs, results, copier.take_warnings(), rep);
  return rep;
}

}  // namespace modelswarm
