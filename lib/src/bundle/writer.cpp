// Export pipeline: workers compress whole chunks (hashing them on the way, since a chunk's
// SHA-256 is sequential), the calling thread appends their frames to the bundle in manifest
// order. Frames of the chunk at the head of the order are written as they are produced; other
// workers stop when the frames buffered ahead of the head exceed a budget, so memory stays
// bounded whatever the chunk sizes.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "bundle/file_io.hpp"
#include "modelswarm/bundle.hpp"

namespace modelswarm {

namespace {

using bundle_io::Fd;

struct Frame {
  FrameEntry entry;
  std::vector<uint8_t> bytes;
};

struct ChunkJob {
  uint32_t file = 0;
  uint32_t piece = 0;
};

struct ChunkOutput {
  std::deque<Frame> frames;
  bool done = false;
};

class ExportPipeline {
 public:
  ExportPipeline(const BundleLayout& layout, const std::vector<Fd>& sources,
                 const std::vector<std::string>& names, const BundleWriteOptions& options)
      : layout_(layout), sources_(sources), names_(names), options_(options) {
    for (uint32_t f = 0; f < layout.files.size(); ++f)
      for (uint32_t p = 0; p < layout.files[f].pieces.size(); ++p)
        if (layout.files[f].pieces[p].size > 0) jobs_.push_back({f, p});
    outputs_.resize(jobs_.size());
    total_ = layout.total_bytes();
  }

  // Runs the workers and appends every frame to `out` from `data_offset`; fills entries/stats.
  Status run(const Fd& out, const std::string& out_name, uint64_t data_offset, unsigned threads,
             std::vector<FrameEntry>& entries, BundleStats& stats) {
    std::vector<std::thread> workers;
    threads = std::max(1u, std::min<unsigned>(threads, std::max<size_t>(jobs_.size(), 1)));
    for (unsigned t = 0; t < threads; ++t) workers.emplace_back([this] { work(); });
    Status st = drain(out, out_name, data_offset, entries, stats);
    if (!st.ok()) fail(st.error());
    for (auto& w : workers) w.join();
    std::lock_guard lk(mu_);
    if (error_) return *error_;
    return {};
  }

 private:
  static constexpr uint64_t kAheadBudget = 256ull << 20;

  void fail(const Error& e) {
    std::lock_guard lk(mu_);
    if (!error_) error_ = e;
    cv_.notify_all();
  }

  bool stopped() {
    if (options_.cancel && options_.cancel->load()) {
      fail(Error::interrupted("export interrupted"));
      return true;
    }
    std::lock_guard lk(mu_);
    return error_.has_value();
  }

  void work() {
    FrameCodec codec;
    std::vector<uint8_t> raw;
    Sha256 hasher;
    for (;;) {
      size_t j = next_.fetch_add(1);
      if (j >= jobs_.size() || stopped()) return;
      Status st = compress_chunk(j, codec, raw, hasher);
      if (!st.ok()) {
        fail(st.error());
        return;
      }
    }
  }

  Status compress_chunk(size_t j, FrameCodec& codec, std::vector<uint8_t>& raw, Sha256& hasher) {
    const BundleFile& file = layout_.files[jobs_[j].file];
    const BundlePiece& piece = file.pieces[jobs_[j].piece];
    // Frames of a float chunk must hold whole elements, so they split at a multiple of 4.
    uint64_t step = options_.frame_bytes & ~uint64_t{3};
    for (uint64_t off = 0; off < piece.size; off += step) {
      uint64_t n = std::min(step, piece.size - off);
      raw.resize(n);
      MS_TRY(bundle_io::pread_full(sources_[jobs_[j].file].get(), raw, piece.offset + off,
                                   names_[jobs_[j].file]));
      hasher.update(raw);
      Frame fr;
      MS_ASSIGN_OR_RETURN(fr.entry.encoding,
                          codec.encode(raw, piece.float_width, options_.level, fr.bytes));
      fr.entry.file = jobs_[j].file;
      fr.entry.chunk = jobs_[j].piece;
      fr.entry.file_offset = piece.offset + off;
      fr.entry.raw_bytes = n;
      fr.entry.stored_bytes = fr.bytes.size();
      std::unique_lock lk(mu_);
      if (error_) return *error_;
      buffered_ += fr.bytes.size();
      outputs_[j].frames.push_back(std::move(fr));
      cv_.notify_all();
      cv_.wait(lk, [&] { return error_ || j == head_ || buffered_ <= kAheadBudget; });
      if (error_) return *error_;
    }
    if (hasher.finish() != piece.sha256)
      return Error::content(file.path + ": chunk at offset " + std::to_string(piece.offset) +
                            " does not match the manifest's SHA-256");
    std::lock_guard lk(mu_);
    outputs_[j].done = true;
    cv_.notify_all();
    return {};
  }

  Status drain(const Fd& out, const std::string& out_name, uint64_t offset,
               std::vector<FrameEntry>& entries, BundleStats& stats) {
    uint64_t done_raw = 0;
    for (size_t j = 0; j < jobs_.size(); ++j) {
      for (;;) {
        std::deque<Frame> ready;
        bool finished;
        {
          std::unique_lock lk(mu_);
          head_ = j;
          cv_.notify_all();
          cv_.wait(lk, [&] { return error_ || !outputs_[j].frames.empty() || outputs_[j].done; });
          if (error_) return *error_;
          ready.swap(outputs_[j].frames);
          finished = outputs_[j].done;
        }
        for (Frame& fr : ready) {
          MS_TRY(bundle_io::pwrite_full(out.get(), fr.bytes, offset, out_name));
          offset += fr.bytes.size();
          stats.frames++;
          if (fr.entry.encoding == FrameEncoding::raw) stats.raw_frames++;
          if (fr.entry.encoding == FrameEncoding::grouped2_zstd ||
              fr.entry.encoding == FrameEncoding::grouped4_zstd)
            stats.grouped_frames++;
          done_raw += fr.entry.raw_bytes;
          entries.push_back(fr.entry);
          {
            std::lock_guard lk(mu_);
            buffered_ -= fr.bytes.size();
          }
          cv_.notify_all();
          if (options_.progress) options_.progress(done_raw, total_);
        }
        if (finished && ready.empty()) break;
      }
    }
    return {};
  }

  const BundleLayout& layout_;
  const std::vector<Fd>& sources_;
  const std::vector<std::string>& names_;
  const BundleWriteOptions& options_;
  std::vector<ChunkJob> jobs_;
  std::vector<ChunkOutput> outputs_;
  uint64_t total_ = 0;
  std::atomic<size_t> next_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  size_t head_ = 0;
  uint64_t buffered_ = 0;
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
    MS_ASSIGN_OR_RETURN(Fd fd, bundle_io::open_read(p));
    MS_ASSIGN_OR_RETURN(uint64_t size, bundle_io::file_size(fd.get(), p));
    if (size != f.size)
      return Error::content(p.string() + ": size " + std::to_string(size) +
                            " differs from the manifest's " + std::to_string(f.size));
    sources.push_back(std::move(fd));
  }

  std::filesystem::path tmp = out;
  tmp += ".part-" + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  MS_ASSIGN_OR_RETURN(Fd fd, bundle_io::create_exclusive(tmp));
  std::string tmp_name = tmp.string();
  auto body = [&]() -> Result<BundleStats> {
    BundleHeader h;
    h.manifest_bytes = sections.manifest.size();
    h.signature_bytes = sections.signature.size();
    h.torrent_bytes = sections.torrent.size();
    auto as_bytes = [](const std::string& s) {
      return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    };
    MS_TRY(bundle_io::pwrite_full(fd.get(), as_bytes(sections.manifest), h.manifest_offset(), tmp_name));
    MS_TRY(bundle_io::pwrite_full(fd.get(), as_bytes(sections.signature), h.signature_offset(), tmp_name));
    MS_TRY(bundle_io::pwrite_full(fd.get(), as_bytes(sections.torrent), h.torrent_offset(), tmp_name));

    BundleStats stats;
    std::vector<FrameEntry> entries;
    unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    ExportPipeline pipeline(layout, sources, names, options);
    MS_TRY(pipeline.run(fd, tmp_name, h.data_offset(), threads, entries, stats));

    for (const FrameEntry& e : entries) h.data_bytes += e.stored_bytes;
    h.entry_count = entries.size();
    std::vector<uint8_t> index(entries.size() * kBundleEntryBytes);
    for (size_t i = 0; i < entries.size(); ++i)
      encode_frame_entry(entries[i],
                         std::span<uint8_t, kBundleEntryBytes>(index.data() + i * kBundleEntryBytes,
                                                              kBundleEntryBytes));
    MS_TRY(bundle_io::pwrite_full(fd.get(), index, h.index_offset(), tmp_name));
    auto header = encode_bundle_header(h);
    MS_TRY(bundle_io::pwrite_full(fd.get(), header, 0, tmp_name));
    MS_TRY(bundle_io::sync_file(fd.get(), tmp_name));
    stats.bytes_in = layout.total_bytes();
    stats.bytes_out = h.total_bytes();
    return stats;
  };
  Result<BundleStats> r = body();
  fd = Fd();
  if (r.ok() && ::rename(tmp.c_str(), out.c_str()) != 0)
    r = Error::io(out.string() + ": cannot rename into place: " + bundle_io::errno_text());
  if (!r.ok()) {
    std::filesystem::remove(tmp, ec);
    return r;
  }
  r->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace modelswarm
