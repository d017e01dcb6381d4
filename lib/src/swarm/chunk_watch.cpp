#include "chunk_watch.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "util/file_io.hpp"
#include "modelswarm/sha256.hpp"

namespace modelswarm::swarm {

namespace fs = std::filesystem;

struct ChunkWatch::FileState {
  fs::path path;
  std::int64_t torrent_offset = 0;  // where the file starts in the torrent's byte space
  std::optional<file_io::Fd> fd;  // opened on first use
  bool unreadable = false;
};

struct ChunkWatch::ChunkState {
  enum class Status { watching, verified, failed, unwatched };
  std::uint32_t file = 0;  // index into files_
  std::uint64_t offset = 0, size = 0, hashed = 0;
  Sha256Digest expected{};
  Sha256 hasher;
  Status status = Status::unwatched;  // written by the worker under mu_
};

namespace {
constexpr std::size_t kReadBlock = 1 << 20;
}

ChunkWatch::ChunkWatch(const Manifest& m, const lt::torrent_info& ti, const fs::path& dir) {
  const lt::file_storage& fst = ti.files();
  piece_length_ = ti.piece_length();
  chunks_of_piece_.resize(static_cast<size_t>(ti.num_pieces()));
  have_.assign(static_cast<size_t>(ti.num_pieces()), false);

  std::map<std::string, lt::file_index_t> by_path;
  for (lt::file_index_t i : fst.file_range()) {
    if (fst.pad_file_at(i)) continue;
    std::string path = fst.file_path(i, "");
    std::replace(path.begin(), path.end(), '\\', '/');
    auto slash = path.find('/');
    if (slash != std::string::npos) by_path[path.substr(slash + 1)] = i;
  }
  size_t total = 0;
  for (const auto& f : m.files) total += f.chunks.size();
  chunks_.resize(total);
  file_base_.reserve(m.files.size());
  size_t next = 0;
  for (const auto& mf : m.files) {
    file_base_.push_back(next);
    auto it = by_path.find(mf.path);
    std::optional<std::uint32_t> fidx;
    if (it != by_path.end() && fst.file_offset(it->second) % piece_length_ == 0 &&
        fst.file_size(it->second) == static_cast<std::int64_t>(mf.size)) {
      fidx = static_cast<std::uint32_t>(files_.size());
      FileState fs_;
      fs_.path = dir / fst.file_path(it->second, "");
      fs_.torrent_offset = fst.file_offset(it->second);
      files_.push_back(std::move(fs_));
    }
    for (const Chunk& c : mf.chunks) {
      ChunkState& cs = chunks_[next];
      cs.offset = c.offset;
      cs.size = c.size;
      cs.expected = c.sha256;
      if (fidx && c.size > 0) {
        cs.file = *fidx;
        cs.status = ChunkState::Status::watching;
        std::int64_t start = files_[*fidx].torrent_offset + static_cast<std::int64_t>(c.offset);
        std::int64_t end = start + static_cast<std::int64_t>(c.size) - 1;
        for (std::int64_t p = start / piece_length_; p <= end / piece_length_; ++p)
          if (p < static_cast<std::int64_t>(chunks_of_piece_.size()))
            chunks_of_piece_[static_cast<size_t>(p)].push_back(static_cast<std::uint32_t>(next));
      }
      ++next;
    }
  }
  worker_ = std::thread([this] { run(); });
}

ChunkWatch::~ChunkWatch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void ChunkWatch::piece_done(lt::piece_index_t p) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(p);
  }
  cv_.notify_all();
}

bool ChunkWatch::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty() && !busy_;
}

bool ChunkWatch::all_verified() const {
  std::lock_guard<std::mutex> lock(mu_);
  return verified_count_ == chunks_.size();
}

std::function<bool(size_t, size_t)> ChunkWatch::verified() const {
  return [this](size_t file, size_t chunk) {
    if (file >= file_base_.size()) return false;
    size_t i = file_base_[file] + chunk;
    std::lock_guard<std::mutex> lock(mu_);
    return i < chunks_.size() && chunks_[i].status == ChunkState::Status::verified;
  };
}

void ChunkWatch::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::deque<lt::piece_index_t> batch;
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    std::vector<std::uint32_t> touched;
    for (lt::piece_index_t p : batch) {
      auto i = static_cast<size_t>(static_cast<int>(p));
      if (i >= have_.size() || have_[i]) continue;
      have_[i] = true;
      touched.insert(touched.end(), chunks_of_piece_[i].begin(), chunks_of_piece_[i].end());
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (std::uint32_t c : touched) {
      {
        std::lock_guard<std::mutex> g(mu_);
        if (stop_) break;
      }
      advance(chunks_[c]);
    }
    lock.lock();
    busy_ = false;
  }
}

// Hashes the chunk forward over the pieces that are in, in order (SHA-256 cannot skip ahead).
void ChunkWatch::advance(ChunkState& c) {
  if (c.status != ChunkState::Status::watching) return;
  FileState& f = files_[c.file];
  std::vector<std::uint8_t>& buf = read_buf_;
  while (c.hashed < c.size) {
    std::int64_t at = f.torrent_offset + static_cast<std::int64_t>(c.offset + c.hashed);
    auto piece = static_cast<size_t>(at / piece_length_);
    if (piece >= have_.size() || !have_[piece]) return;
    std::uint64_t n = std::min<std::uint64_t>(c.size - c.hashed,
                                              static_cast<std::uint64_t>((static_cast<std::int64_t>(piece) + 1) * piece_length_ - at));
    if (!f.fd && !f.unreadable) {
      auto fd = file_io::open_read(f.path);
      if (fd.ok()) f.fd = std::move(*fd);
      else f.unreadable = true;
    }
    bool ok = !f.unreadable;
    if (buf.size() < kReadBlock) buf.resize(kReadBlock);
    for (std::uint64_t done = 0; ok && done < n;) {
      std::uint64_t len = std::min<std::uint64_t>(n - done, buf.size());
      std::span<std::uint8_t> out(buf.data(), static_cast<size_t>(len));
      ok = file_io::pread_full(f.fd->get(), out, c.offset + c.hashed + done, f.path.string()).ok();
      if (ok) c.hasher.update(out);
      done += len;
    }
    if (!ok) {
      std::lock_guard<std::mutex> lock(mu_);
      c.status = ChunkState::Status::failed;  // the final check reads it again
      return;
    }
    c.hashed += n;
  }
  bool match = c.hasher.finish() == c.expected;
  std::lock_guard<std::mutex> lock(mu_);
  c.status = match ? ChunkState::Status::verified : ChunkState::Status::failed;
  if (match) ++verified_count_;
}

}  // namespace modelswarm::swarm
