// Import side of the container: bounds the header and sections, checks that the index tiles the
// expected layout exactly, then decodes frames on every core (parallel_jobs.hpp), hashing each
// chunk's frames in order (chunk_hash.hpp).
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "bundle/bundle_format.hpp"
#include "bundle/chunk_hash.hpp"
#include "util/file_io.hpp"
#include "util/parallel_jobs.hpp"
#include "modelswarm/bundle.hpp"

namespace modelswarm {

namespace {

using file_io::Fd;

struct ChunkWork {
  uint32_t file = 0;
  uint32_t piece = 0;
  size_t first_entry = 0;  // frames [first_entry, end_entry) of the index
  size_t end_entry = 0;
  uint64_t data_offset = 0;  // absolute offset of the first frame's bytes in the bundle
};

Result<std::string> read_section(int fd, uint64_t offset, uint64_t size, const std::string& name) {
  std::string s(size, '\0');
  MS_TRY(file_io::pread_full(fd, std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size()),
                               offset, name));
  return s;
}

// Maps the index onto the layout. Every frame must continue exactly where the previous one in
// the same chunk ended, chunks follow in manifest order, and the stored lengths must add up to
// the data section.
Result<std::vector<ChunkWork>> plan_chunks(const std::vector<FrameEntry>& entries,
                                           const BundleLayout& layout, const BundleHeader& h,
                                           const std::string& name) {
  std::vector<ChunkWork> work;
  size_t e = 0;
  uint64_t data = h.data_offset();
  for (uint32_t f = 0; f < layout.files.size(); ++f) {
    const BundleFile& file = layout.files[f];
    for (uint32_t p = 0; p < file.pieces.size(); ++p) {
      const BundlePiece& piece = file.pieces[p];
      ChunkWork w{f, p, e, e, data};
      uint64_t cursor = piece.offset;
      uint64_t end = piece.offset + piece.size;
      while (cursor < end) {
        if (e >= entries.size())
          return Error::format(name + ": index ends before " + file.path + " is complete");
        const FrameEntry& fe = entries[e];
        if (fe.file != f || fe.chunk != p || fe.file_offset != cursor || fe.raw_bytes > end - cursor)
          return Error::format(name + ": frame " + std::to_string(e) + " does not match chunk " +
                               std::to_string(p) + " of " + file.path + " in the manifest");
        cursor += fe.raw_bytes;
        data += fe.stored_bytes;  // bounded: stored <= raw <= 64 MiB, and entries <= 2^24
        ++e;
      }
      w.end_entry = e;
      work.push_back(w);
    }
  }
  if (e != entries.size()) return Error::format(name + ": index has frames beyond the manifest's files");
  if (data != h.index_offset())
    return Error::format(name + ": frame lengths do not add up to the data section");
  return work;
}

Result<std::vector<FrameEntry>> read_index(int fd, const BundleHeader& h, const std::string& name) {
  std::vector<uint8_t> index(h.entry_count * kBundleEntryBytes);
  MS_TRY(file_io::pread_full(fd, index, h.index_offset(), name));
  std::vector<FrameEntry> entries;
  entries.reserve(h.entry_count);
  for (uint64_t i = 0; i < h.entry_count; ++i) {
    auto bytes = std::span<const uint8_t, kBundleEntryBytes>(index.data() + i * kBundleEntryBytes, kBundleEntryBytes);
    MS_ASSIGN_OR_RETURN(FrameEntry e, decode_frame_entry(bytes, name, i));
    entries.push_back(e);
  }
  return entries;
}

// Creates every file of the layout under dest_dir (parents included), at its final size.
Result<std::vector<Fd>> create_outputs(const BundleLayout& layout, const std::filesystem::path& dest_dir) {
  std::vector<Fd> outs;
  for (const BundleFile& f : layout.files) {
    std::filesystem::path p = dest_dir / f.path;
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) return Error::io(p.parent_path().string() + ": cannot create directory: " + ec.message());
    MS_ASSIGN_OR_RETURN(Fd out, file_io::create_exclusive(p));
    // Sizing the file up front makes a file that is never completed obviously incomplete
    // to nobody but us (it lives in staging) and lets frames land in any order.
    if (::ftruncate(out.get(), static_cast<off_t>(f.size)) != 0)
      return Error::io(p.string() + ": cannot size file: " + file_io::errno_text());
    outs.push_back(std::move(out));
  }
  return outs;
}

// Where each frame goes: its chunk (index into the plan), its position in that chunk, and the
// offset of its stored bytes in the bundle.
struct FrameRef {
  size_t chunk;
  uint64_t position;
  uint64_t data_offset;
};

std::vector<FrameRef> frame_refs(const std::vector<ChunkWork>& work, const std::vector<FrameEntry>& entries) {
  std::vector<FrameRef> frames(entries.size());
  for (size_t c = 0; c < work.size(); ++c) {
    uint64_t data = work[c].data_offset;
    for (size_t i = work[c].first_entry; i < work[c].end_entry; ++i) {
      frames[i] = {c, i - work[c].first_entry, data};
      data += entries[i].stored_bytes;
    }
  }
  return frames;
}

// Chunks without frames (empty tensors) must still hash to what the manifest says.
Status check_empty_chunks(const std::vector<ChunkWork>& work, const BundleLayout& layout, const std::string& name) {
  static const Sha256Digest empty = sha256("", 0);
  for (const ChunkWork& w : work) {
    const BundlePiece& piece = layout.files[w.file].pieces[w.piece];
    if (w.first_entry == w.end_entry && piece.sha256 != empty)
      return Error::content(name + ": " + layout.files[w.file].path + ": empty chunk at offset " +
                            std::to_string(piece.offset) + " does not match the signed manifest");
  }
  return {};
}

// What one decoding thread keeps from frame to frame.
struct FrameWorker {
  FrameCodec codec;
  std::vector<uint8_t> stored, raw;
};

// Decodes every frame into its output file on all threads, hashing each chunk's frames in order.
class FrameDecoder {
 public:
  FrameDecoder(int bundle_fd, const std::string& name, const BundleLayout& layout,
               const std::filesystem::path& dest_dir, const std::vector<FrameEntry>& entries,
               const std::vector<ChunkWork>& work, const std::vector<Fd>& outs)
      : fd_(bundle_fd), name_(name), layout_(layout), dest_dir_(dest_dir), entries_(entries),
        work_(work), outs_(outs), frames_(frame_refs(work, entries)), hashes_(work.size()) {}

  Status run(const BundleExtractOptions& options, BundleStats& stats) {
    ProgressCounter progress(options.progress, layout_.total_bytes());
    ParallelJobs jobs(entries_.size(), options.threads, options.cancel, "import interrupted");
    jobs.on_stop([this] {
      for (auto& h : hashes_) h.wake();
    });
    MS_TRY(jobs.run<FrameWorker>([&](size_t i, FrameWorker& w) { return decode(i, w, jobs.stop_flag(), progress); }));
    stats.frames = entries_.size();
    stats.raw_frames = raw_frames_.load();
    stats.grouped_frames = grouped_.load();
    return {};
  }

 private:
  Status decode(size_t i, FrameWorker& w, const std::atomic<bool>& stopped, ProgressCounter& progress) {
    const FrameEntry& fe = entries_[i];
    const ChunkWork& cw = work_[frames_[i].chunk];
    const BundleFile& file = layout_.files[cw.file];
    w.stored.resize(fe.stored_bytes);
    w.raw.resize(fe.raw_bytes);
    MS_TRY(file_io::pread_full(fd_, w.stored, frames_[i].data_offset, name_));
    std::string where = name_ + ": frame " + std::to_string(i) + " (" + file.path + ")";
    MS_TRY(w.codec.decode(fe.encoding, w.stored, w.raw, where));
    MS_TRY(file_io::pwrite_full(outs_[cw.file].get(), w.raw, fe.file_offset, (dest_dir_ / file.path).string()));
    bool last = i + 1 == cw.end_entry;
    Sha256Digest digest{};
    if (!hashes_[frames_[i].chunk].add(frames_[i].position, w.raw, last, stopped, &digest)) return {};
    const BundlePiece& piece = file.pieces[cw.piece];
    if (last && digest != piece.sha256)
      return Error::content(name_ + ": " + file.path + ": chunk at offset " + std::to_string(piece.offset) +
                            " does not match the signed manifest");
    if (fe.encoding == FrameEncoding::raw) raw_frames_++;
    else if (fe.encoding != FrameEncoding::zstd) grouped_++;
    progress.add(fe.raw_bytes);
    return {};
  }

  const int fd_;
  const std::string& name_;
  const BundleLayout& layout_;
  const std::filesystem::path& dest_dir_;
  const std::vector<FrameEntry>& entries_;
  const std::vector<ChunkWork>& work_;
  const std::vector<Fd>& outs_;
  std::vector<FrameRef> frames_;
  std::vector<file_io::OrderedChunkHash> hashes_;
  std::atomic<uint64_t> raw_frames_{0}, grouped_{0};
};

}  // namespace

BundleReader::BundleReader(BundleReader&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), name_(std::move(o.name_)), header_(std::move(o.header_)),
      sections_(std::move(o.sections_)) {}

BundleReader& BundleReader::operator=(BundleReader&& o) noexcept {
  if (this != &o) {
    Fd drop(fd_);
    fd_ = std::exchange(o.fd_, -1);
    name_ = std::move(o.name_);
    header_ = std::move(o.header_);
    sections_ = std::move(o.sections_);
  }
  return *this;
}

BundleReader::~BundleReader() { Fd drop(fd_); }

uint64_t BundleReader::file_size() const { return header_->total_bytes(); }

Result<BundleReader> BundleReader::open(const std::filesystem::path& path) {
  BundleReader r;
  r.name_ = path.string();
  MS_ASSIGN_OR_RETURN(Fd fd, file_io::open_read(path));
  MS_ASSIGN_OR_RETURN(uint64_t size, file_io::file_size(fd.get(), path));
  std::array<uint8_t, kBundleHeaderBytes> raw{};
  if (size < kBundleHeaderBytes) return Error::format(r.name_ + ": too short to be a modelswarm bundle");
  MS_TRY(file_io::pread_full(fd.get(), raw, 0, r.name_));
  MS_ASSIGN_OR_RETURN(BundleHeader decoded, decode_bundle_header(raw, size, r.name_));
  r.header_ = std::make_unique<BundleHeader>(decoded);
  const BundleHeader& h = *r.header_;
  MS_ASSIGN_OR_RETURN(r.sections_.manifest, read_section(fd.get(), h.manifest_offset(), h.manifest_bytes, r.name_));
  MS_ASSIGN_OR_RETURN(r.sections_.signature, read_section(fd.get(), h.signature_offset(), h.signature_bytes, r.name_));
  MS_ASSIGN_OR_RETURN(r.sections_.torrent, read_section(fd.get(), h.torrent_offset(), h.torrent_bytes, r.name_));
  r.fd_ = fd.release();
  return r;
}

Result<BundleStats> BundleReader::extract(const BundleLayout& layout,
                                          const std::filesystem::path& dest_dir,
                                          const BundleExtractOptions& options) const {
  auto t0 = std::chrono::steady_clock::now();
  MS_ASSIGN_OR_RETURN(std::vector<FrameEntry> entries, read_index(fd_, *header_, name_));
  MS_ASSIGN_OR_RETURN(std::vector<ChunkWork> work, plan_chunks(entries, layout, *header_, name_));
  MS_ASSIGN_OR_RETURN(std::vector<Fd> outs, create_outputs(layout, dest_dir));

  BundleStats stats;
  MS_TRY(FrameDecoder(fd_, name_, layout, dest_dir, entries, work, outs).run(options, stats));
  MS_TRY(check_empty_chunks(work, layout, name_));

  auto t_sync = std::chrono::steady_clock::now();
  if (options.sync)
    for (size_t i = 0; i < outs.size(); ++i)
      MS_TRY(file_io::sync_file(outs[i].get(), (dest_dir / layout.files[i].path).string()));
  stats.sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_sync).count();

  stats.bytes_in = header_->total_bytes();
  stats.bytes_out = layout.total_bytes();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace modelswarm
