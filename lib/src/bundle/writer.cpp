// Export pipeline: workers take frames in manifest order, compress them and hash each chunk's
// frames in order (chunk_hash.hpp); the calling thread appends finished frames to the bundle in
// order. Workers stay at most a few frames ahead of the writer, so memory stays bounded
// whatever the chunk sizes.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "bundle/bundle_format.hpp"
#include "bundle/chunk_hash.hpp"
#include "util/file_io.hpp"
#include "util/parallel_jobs.hpp"
#include "modelswarm/bundle.hpp"

namespace modelswarm {

namespace {

using file_io::Fd;

// One frame to produce: a slice of a chunk.
struct FrameJob {
  uint32_t file = 0;
  uint32_t piece = 0;
  size_t chunk = 0;       // ordinal of the chunk among non-empty chunks
  uint64_t position = 0;  // frame number within the chunk
  bool last = false;      // last frame of its chunk
  uint64_t offset = 0;    // in the file
  uint64_t size = 0;
};

struct FrameResult {
  FrameEntry entry;
  std::vector<uint8_t> bytes;
  bool ready = false;
};

class ExportPipeline {
 public:
  ExportPipeline(const BundleLayout& layout, const std::vector<Fd>& sources,
                 const std::vector<std::string>& names, const BundleWriteOptions& options)
      : layout_(layout), sources_(sources), names_(names), options_(options) {
    // Frames of a float chunk must hold whole elements, so they split at a multiple of 4.
    uint64_t step = options.frame_bytes & ~uint64_t{3};
    size_t chunk = 0;
    for (uint32_t f = 0; f < layout.files.size(); ++f)
      for (uint32_t p = 0; p < layout.files[f].pieces.size(); ++p) {
        const BundlePiece& piece = layout.files[f].pieces[p];
        if (piece.size == 0) continue;
        uint64_t pos = 0;
        for (uint64_t off = 0; off < piece.size; off += step, ++pos)
          jobs_.push_back({f, p, chunk, pos, off + step >= piece.size, piece.offset + off,
                           std::min(step, piece.size - off)});
        ++chunk;
      }
    hashes_ = std::vector<file_io::OrderedChunkHash>(chunk);
    results_.resize(jobs_.size());
    total_ = layout.total_bytes();
  }

  // Runs the workers and appends every frame to `out` from `data_offset`; fills entries/stats.
  Status run(int out, const std::string& out_name, uint64_t data_offset, unsigned threads,
             std::vector<FrameEntry>& entries, BundleStats& stats) {
    threads = worker_threads(threads, jobs_.size());
    // Frames compressed ahead of the one being written; bounds memory to a few frames per thread.
    window_ = 4 * size_t{threads};
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) workers.emplace_back([this] { work(); });
    Status st = drain(out, out_name, data_offset, entries, stats);
    if (!st.ok()) fail(st.error());
    for (auto& w : workers) w.join();
    std::lock_guard lk(mu_);
    if (error_) return *error_;
    return {};
  }

 private:
  void fail(const Error& e) {
    {
      std::lock_guard lk(mu_);
      if (!error_) error_ = e;
      failed_.store(true);
      cv_.notify_all();
    }
    for (auto& h : hashes_) h.wake();
  }

  void work() {
    FrameCodec codec;
    std::vector<uint8_t> raw;
    for (;;) {
      size_t i = next_.fetch_add(1);
      if (i >= jobs_.size()) return;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return error_ || i < written_ + window_; });
        if (error_) return;
      }
      if (options_.cancel && options_.cancel->load()) return fail(Error::interrupted("export interrupted"));
      Status st = compress_frame(i, codec, raw);
      if (!st.ok()) return fail(st.error());
    }
  }

  Status compress_frame(size_t i, FrameCodec& codec, std::vector<uint8_t>& raw) {
    const FrameJob& job = jobs_[i];
    const BundleFile& file = layout_.files[job.file];
    const BundlePiece& piece = file.pieces[job.piece];
    raw.resize(job.size);
    MS_TRY(file_io::pread_full(sources_[job.file].get(), raw, job.offset, names_[job.file]));
    FrameResult r;
    MS_ASSIGN_OR_RETURN(r.entry.encoding, codec.encode(raw, piece.float_width, options_.level, r.bytes));
    r.entry.file = job.file;
    r.entry.chunk = job.piece;
    r.entry.file_offset = job.offset;
    r.entry.raw_bytes = job.size;
    r.entry.stored_bytes = r.bytes.size();
    Sha256Digest digest{};
    if (!hashes_[job.chunk].add(job.position, raw, job.last, failed_, &digest)) return {};
    if (job.last && digest != piece.sha256)
      return Error::content(names_[job.file] + ": chunk at offset " + std::to_string(piece.offset) +
                            " does not match the manifest's SHA-256");
    std::lock_guard lk(mu_);
    r.ready = true;
    results_[i] = std::move(r);
    cv_.notify_all();
    return {};
  }

  Status drain(int out, const std::string& out_name, uint64_t offset,
               std::vector<FrameEntry>& entries, BundleStats& stats) {
    uint64_t done_raw = 0;
    for (size_t i = 0; i < jobs_.size(); ++i) {
      FrameResult r;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return error_ || results_[i].ready; });
        if (error_) return *error_;
        r = std::move(results_[i]);
      }
      MS_TRY(file_io::pwrite_full(out, r.bytes, offset, out_name));
      offset += r.bytes.size();
      stats.frames++;
      if (r.entry.encoding == FrameEncoding::raw) stats.raw_frames++;
      if (r.entry.encoding == FrameEncoding::grouped2_zstd ||
          r.entry.encoding == FrameEncoding::grouped4_zstd)
        stats.grouped_frames++;
      done_raw += r.entry.raw_bytes;
      entries.push_back(r.entry);
      {
        std::lock_guard lk(mu_);
        written_ = i + 1;
      }
      cv_.notify_all();
      if (options_.progress) options_.progress(done_raw, total_);
    }
    return {};
  }

  const BundleLayout& layout_;
  const std::vector<Fd>& sources_;
  const std::vector<std::string>& names_;
  const BundleWriteOptions& options_;
  std::vector<FrameJob> jobs_;
  std::vector<file_io::OrderedChunkHash> hashes_;
  std::vector<FrameResult> results_;
  uint64_t total_ = 0;
  size_t window_ = 8;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  size_t written_ = 0;
  std::optional<Error> error_;
};

Status check_empty_pieces(const BundleLayout& layout) {
  static const Sha256Digest empty = sha256("", 0);
  for (const BundleFile& f : layout.files)
    for (const BundlePiece& p : f.pieces)
      if (p.size == 0 && p.sha256 != empty)
        return Error::content(f.path + ": empty chunk at offset " + std::to_string(p.offset) +
                              " has a non-empty SHA-256 in the manifest");
  return {};
}

}  // namespace

Result<BundleStats> write_bundle(const std::filesystem::path& out, const BundleSections& sections,
                                 const BundleLayout& layout,
                                 const std::filesystem::path& source_dir,
                                 const BundleWriteOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  if (options.frame_bytes < (64u << 10) || options.frame_bytes > kMaxFrameRawBytes)
    return Error::invalid_argument("bundle frame size must be between 64 KiB and 64 MiB");
  if (sections.manifest.empty() || sections.manifest.size() > kMaxBundleManifestBytes ||
      sections.signature.empty() || sections.signature.size() > kMaxBundleSignatureBytes ||
      sections.torrent.size() > kMaxBundleTorrentBytes)
    return Error::invalid_argument(out.string() + ": manifest, signature or torrent too large for a bundle");
  if (layout.files.size() >= kNoChunk) return Error::invalid_argument("too many files for a bundle");
  MS_TRY(check_empty_pieces(layout));

  std::vector<Fd> sources;
  std::vector<std::string> names;
  for (const BundleFile& f : layout.files) {
    std::filesystem::path p = source_dir / f.path;
    names.push_back(p.string());
    MS_ASSIGN_OR_RETURN(Fd fd, file_io::open_read(p));
    MS_ASSIGN_OR_RETURN(uint64_t size, file_io::file_size(fd.get(), p));
    if (size != f.size)
      return Error::content(p.string() + ": size " + std::to_string(size) +
                            " differs from the manifest's " + std::to_string(f.size));
    sources.push_back(std::move(fd));
  }

  std::filesystem::path tmp = out;
  tmp += ".part-" + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  MS_ASSIGN_OR_RETURN(Fd fd, file_io::create_exclusive(tmp));
  std::string tmp_name = tmp.string();
  auto body = [&]() -> Result<BundleStats> {
    BundleHeader h;
    h.manifest_bytes = sections.manifest.size();
    h.signature_bytes = sections.signature.size();
    h.torrent_bytes = sections.torrent.size();
    auto as_bytes = [](const std::string& s) {
      return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    };
    MS_TRY(file_io::pwrite_full(fd.get(), as_bytes(sections.manifest), h.manifest_offset(), tmp_name));
    MS_TRY(file_io::pwrite_full(fd.get(), as_bytes(sections.signature), h.signature_offset(), tmp_name));
    MS_TRY(file_io::pwrite_full(fd.get(), as_bytes(sections.torrent), h.torrent_offset(), tmp_name));

    BundleStats stats;
    std::vector<FrameEntry> entries;
    const unsigned threads = worker_threads(options.threads);
    ExportPipeline pipeline(layout, sources, names, options);
    MS_TRY(pipeline.run(fd.get(), tmp_name, h.data_offset(), threads, entries, stats));

    for (const FrameEntry& e : entries) h.data_bytes += e.stored_bytes;
    h.entry_count = entries.size();
    std::vector<uint8_t> index(entries.size() * kBundleEntryBytes);
    for (size_t i = 0; i < entries.size(); ++i)
      encode_frame_entry(entries[i],
                         std::span<uint8_t, kBundleEntryBytes>(index.data() + i * kBundleEntryBytes,
                                                              kBundleEntryBytes));
    MS_TRY(file_io::pwrite_full(fd.get(), index, h.index_offset(), tmp_name));
    auto header = encode_bundle_header(h);
    MS_TRY(file_io::pwrite_full(fd.get(), header, 0, tmp_name));
    MS_TRY(file_io::sync_file(fd.get(), tmp_name));
    stats.bytes_in = layout.total_bytes();
    stats.bytes_out = h.total_bytes();
    return stats;
  };
  Result<BundleStats> r = body();
  fd = Fd();
  if (r.ok() && ::rename(tmp.c_str(), out.c_str()) != 0)
    r = Error::io(out.string() + ": cannot rename into place: " + file_io::errno_text());
  if (!r.ok()) {
    std::filesystem::remove(tmp, ec);
    return r;
  }
  r->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace modelswarm
