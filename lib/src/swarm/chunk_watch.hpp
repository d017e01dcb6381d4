// Private: the manifest's chunk SHA-256s, checked while the pieces arrive.
//
// A fetched release must match its signed chunk hashes before it is placed. Hashing every chunk
// after the last piece costs a full read of the release at the end of the download (about 0.8 s
// per GiB here); hashing each chunk as soon as its pieces are in overlaps that work with the
// transfer, so that only the last chunks remain at the end.
#pragma once

#include <libtorrent/torrent_info.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "modelswarm/manifest.hpp"

namespace modelswarm::swarm {

namespace lt = libtorrent;

class ChunkWatch {
 public:
  // `dir` holds the torrent's files (the staging directory: the torrent's paths start with its
  // name, so a file is dir/<name>/<path>). Chunks of files the torrent does not align on piece
  // boundaries (never the case in a v2 torrent) are left to the final check.
  ChunkWatch(const Manifest& m, const lt::torrent_info& ti, const std::filesystem::path& dir);
  ~ChunkWatch();
  ChunkWatch(const ChunkWatch&) = delete;
  ChunkWatch& operator=(const ChunkWatch&) = delete;

  // A piece libtorrent has verified. Its bytes may still be on their way to the file (the disk
  // layer hashes blocks from its write buffer): a chunk read too early fails here and is simply
  // hashed again by the final check.
  void piece_done(lt::piece_index_t p);

  // True when every piece reported so far has been read and hashed.
  bool idle() const;
  bool all_verified() const;
  // For ChunkCheckOptions::already_verified; valid while this object lives and is idle.
  std::function<bool(size_t file, size_t chunk)> verified() const;

 private:
  struct ChunkState;
  void run();
  void advance(ChunkState& c);

  struct FileState;
  std::vector<FileState> files_;
  std::vector<ChunkState> chunks_;             // every chunk of the manifest, in its order
  std::vector<size_t> file_base_;              // manifest file -> its first chunk in chunks_
  std::vector<std::vector<std::uint32_t>> chunks_of_piece_;  // piece -> chunks it overlaps
  std::vector<bool> have_;                                   // worker thread only
  std::vector<std::uint8_t> read_buf_;                       // worker thread only, reused
  std::int64_t piece_length_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<lt::piece_index_t> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::size_t verified_count_ = 0;
  std::thread worker_;
};

}  // namespace modelswarm::swarm
