// Import side of the container: bounds the header and sections, checks that the index tiles the
// expected layout exactly, then decodes frames on every core, hashing each chunk's frames in
// order (chunk_hash.hpp).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "bundle/chunk_hash.hpp"
#include "util/file_io.hpp"
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

}  // namespace

BundleReader::BundleReader(BundleReader&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), name_(std::move(o.name_)), header_(o.header_),
      sections_(std::move(o.sections_)) {}

BundleReader& BundleReader::operator=(BundleReader&& o) noexcept {
  if (this != &o) {
    Fd drop(fd_);
    fd_ = std::exchange(o.fd_, -1);
    name_ = std::move(o.name_);
    header_ = o.header_;
    sections_ = std::move(o.sections_);
  }
  return *this;
}

BundleReader::~BundleReader() { Fd drop(fd_); }

Result<BundleReader> BundleReader::open(const std::filesystem::path& path) {
  BundleReader r;
  r.name_ = path.string();
  MS_ASSIGN_OR_RETURN(Fd fd, file_io::open_read(path));
  MS_ASSIGN_OR_RETURN(uint64_t size, file_io::file_size(fd.get(), path));
  std::array<uint8_t, kBundleHeaderBytes> raw{};
  if (size < kBundleHeaderBytes) return Error::format(r.name_ + ": too short to be a modelswarm bundle");
  MS_TRY(file_io::pread_full(fd.get(), raw, 0, r.name_));
  MS_ASSIGN_OR_RETURN(r.header_, decode_bundle_header(raw, size, r.name_));
  const BundleHeader& h = r.header_;
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
  const int fd_view = fd_;

  std::vector<uint8_t> index(header_.entry_count * kBundleEntryBytes);
  MS_TRY(file_io::pread_full(fd_view, index, header_.index_offset(), name_));
  std::vector<FrameEntry> entries;
  entries.reserve(header_.entry_count);
  for (uint64_t i = 0; i < header_.entry_count; ++i) {
    MS_ASSIGN_OR_RETURN(FrameEntry e, decode_frame_entry(std::span<const uint8_t, kBundleEntryBytes>(
                                                             index.data() + i * kBundleEntryBytes,
                                                             kBundleEntryBytes),
                                                         name_, i));
    entries.push_back(e);
  }
  MS_ASSIGN_OR_RETURN(std::vector<ChunkWork> work, plan_chunks(entries, layout, header_, name_));

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

  // Per frame: its chunk (index into `work`), its position in that chunk, its data offset.
  struct FrameRef {
    size_t chunk;
    uint64_t position;
    uint64_t data_offset;
  };
  std::vector<FrameRef> frames(entries.size());
  for (size_t c = 0; c < work.size(); ++c) {
    uint64_t data = work[c].data_offset;
    for (size_t i = work[c].first_entry; i < work[c].end_entry; ++i) {
      frames[i] = {c, i - work[c].first_entry, data};
      data += entries[i].stored_bytes;
    }
  }
  std::vector<file_io::OrderedChunkHash> hashes(work.size());

  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done_raw{0};
  std::atomic<uint64_t> grouped{0}, raw_frames{0};
  std::mutex mu;
  std::optional<Error> error;
  std::atomic<bool> failed{false};
  uint64_t total = layout.total_bytes();
  auto fail = [&](const Error& e) {
    {
      std::lock_guard lk(mu);
      if (!error) error = e;
    }
    failed.store(true);
    for (auto& h : hashes) h.wake();
  };

  auto worker = [&] {
    FrameCodec codec;
    std::vector<uint8_t> stored, raw;
    auto one = [&](size_t i) -> Status {
      const FrameEntry& fe = entries[i];
      const ChunkWork& w = work[frames[i].chunk];
      const BundleFile& file = layout.files[w.file];
      stored.resize(fe.stored_bytes);
      raw.resize(fe.raw_bytes);
      MS_TRY(file_io::pread_full(fd_view, stored, frames[i].data_offset, name_));
      std::string where = name_ + ": frame " + std::to_string(i) + " (" + file.path + ")";
      MS_TRY(codec.decode(fe.encoding, stored, raw, where));
      MS_TRY(file_io::pwrite_full(outs[w.file].get(), raw, fe.file_offset,
                                    (dest_dir / file.path).string()));
      bool last = i + 1 == w.end_entry;
      Sha256Digest digest{};
      if (!hashes[frames[i].chunk].add(frames[i].position, raw, last, failed, &digest)) return {};
      const BundlePiece& piece = file.pieces[w.piece];
      if (last && digest != piece.sha256)
        return Error::content(name_ + ": " + file.path + ": chunk at offset " +
                              std::to_string(piece.offset) + " does not match the signed manifest");
      if (fe.encoding == FrameEncoding::raw) raw_frames++;
      else if (fe.encoding != FrameEncoding::zstd) grouped++;
      uint64_t d = done_raw.fetch_add(fe.raw_bytes) + fe.raw_bytes;
      if (options.progress) options.progress(d, total);
      return {};
    };
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= entries.size() || failed.load()) return;
      if (options.cancel && options.cancel->load()) return fail(Error::interrupted("import interrupted"));
      Status st = one(i);
      if (!st.ok()) return fail(st.error());
    }
  };
  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::max<unsigned>(1, std::min<size_t>(threads, std::max<size_t>(entries.size(), 1)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) return *error;

  // Chunks without frames (empty tensors) must still hash to what the manifest says.
  static const Sha256Digest empty = sha256("", 0);
  for (const ChunkWork& w : work) {
    const BundlePiece& piece = layout.files[w.file].pieces[w.piece];
    if (w.first_entry == w.end_entry && piece.sha256 != empty)
      return Error::content(name_ + ": " + layout.files[w.file].path + ": empty chunk at offset " +
                            std::to_string(piece.offset) + " does not match the signed manifest");
  }

  BundleStats stats;
  auto t_sync = std::chrono::steady_clock::now();
  if (options.sync)
    for (size_t i = 0; i < outs.size(); ++i)
      MS_TRY(file_io::sync_file(outs[i].get(), (dest_dir / layout.files[i].path).string()));
  stats.sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_sync).count();

  stats.bytes_in = header_.total_bytes();
  stats.bytes_out = total;
  stats.frames = entries.size();
  stats.raw_frames = raw_frames.load();
  stats.grouped_frames = grouped.load();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace modelswarm
