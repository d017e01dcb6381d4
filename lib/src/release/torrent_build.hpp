// Internal: builds the release torrent from hashes computed elsewhere (no extra read of the
// data for v2-only torrents).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/sha256.hpp"

namespace modelswarm::detail {

struct TorrentInputFile {
  std::string path;  // relative to the release directory
  uint64_t size = 0;
  std::vector<Sha256Digest> leaves;  // v2 16 KiB leaf hashes (empty for an empty file)
};

struct TorrentSpec {
  std::string name;  // root directory of the torrent
  uint64_t piece_size = 0;
  bool hybrid = false;
  std::vector<std::string> trackers;
  std::vector<std::string> web_seeds;
  std::filesystem::path release_dir;  // read again only for a hybrid torrent's SHA-1 pieces
};

struct BuiltTorrent {
  std::vector<char> bytes;
  std::string magnet;
  std::string info_hash_v2;
  std::string info_hash_v1;
};

Result<BuiltTorrent> build_torrent(const TorrentSpec& spec, std::vector<TorrentInputFile> files);

}  // namespace modelswarm::detail
