// On-disk layout of an offline bundle (`modelswarm export` / `import`), version 1. Every integer
// is little-endian. Nothing read from a bundle is trusted: the header and every index entry are
// bounded here, and their meaning is checked against the signed manifest by the importer.
//
//   offset 0   header, kBundleHeaderBytes:
//                0  magic "MSWBUNDL"
//                8  u32 version (kBundleVersion)      12  u32 flags (must be 0)
//               16  u64 manifest bytes                24  u64 signature bytes
//               32  u64 torrent bytes (0: none)       40  u64 frame data bytes
//               48  u64 index entry count             56  u64 reserved (must be 0)
//   then       manifest.json verbatim, manifest.json.minisig verbatim, release.torrent verbatim
//   then       frame data: one frame per entry, back to back, in index order
//   then       index: entry count x kBundleEntryBytes:
//                0  u32 file number (order of the manifest's files[])
//                4  u32 chunk number in that file's chunks[], or kNoChunk for bytes no chunk covers
//                8  u8 encoding (FrameEncoding)   9..15 reserved (must be 0)
//               16  u64 offset of the frame's bytes in the file
//               24  u64 raw (decoded) bytes       32  u64 stored bytes
//   end of file exactly after the index.
// Frames tile every file of the manifest in order; a chunk larger than the frame size the exporter
// chose spans several consecutive frames, so memory per frame stays bounded on import.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm {

inline constexpr std::array<uint8_t, 8> kBundleMagic = {'M', 'S', 'W', 'B', 'U', 'N', 'D', 'L'};
inline constexpr uint32_t kBundleVersion = 1;
inline constexpr size_t kBundleHeaderBytes = 64;
inline constexpr size_t kBundleEntryBytes = 40;
inline constexpr uint32_t kNoChunk = 0xFFFFFFFFu;

// Bounds that an importer enforces before allocating anything.
inline constexpr uint64_t kMaxBundleManifestBytes = 256ull << 20;  // = kMaxManifestBytes
inline constexpr uint64_t kMaxBundleSignatureBytes = 64ull << 10;  // = kMaxSignatureBytes
inline constexpr uint64_t kMaxBundleTorrentBytes = 256ull << 20;
inline constexpr uint64_t kMaxFrameRawBytes = 64ull << 20;
inline constexpr uint64_t kMaxBundleEntries = 1ull << 24;

enum class FrameEncoding : uint8_t {
  raw = 0,            // stored bytes are the data
  zstd = 1,           // one zstd frame
  grouped2_zstd = 2,  // byte_group(2, data) then one zstd frame (BF16, F16)
  grouped4_zstd = 3,  // byte_group(4, data) then one zstd frame (F32)
};
const char* frame_encoding_name(FrameEncoding e);

struct BundleHeader {
  uint64_t manifest_bytes = 0;
  uint64_t signature_bytes = 0;
  uint64_t torrent_bytes = 0;
  uint64_t data_bytes = 0;
  uint64_t entry_count = 0;

  uint64_t manifest_offset() const { return kBundleHeaderBytes; }
  uint64_t signature_offset() const { return manifest_offset() + manifest_bytes; }
  uint64_t torrent_offset() const { return signature_offset() + signature_bytes; }
  uint64_t data_offset() const { return torrent_offset() + torrent_bytes; }
  uint64_t index_offset() const { return data_offset() + data_bytes; }
  uint64_t total_bytes() const { return index_offset() + entry_count * kBundleEntryBytes; }
};

struct FrameEntry {
  uint32_t file = 0;
  uint32_t chunk = kNoChunk;
  FrameEncoding encoding = FrameEncoding::raw;
  uint64_t file_offset = 0;
  uint64_t raw_bytes = 0;
  uint64_t stored_bytes = 0;
};

std::array<uint8_t, kBundleHeaderBytes> encode_bundle_header(const BundleHeader& h);
// Checks magic, version, reserved fields, every bound, and that the sections add up to exactly
// `file_size`. `name` is used in error messages.
Result<BundleHeader> decode_bundle_header(std::span<const uint8_t> bytes, uint64_t file_size,
                                          const std::string& name);

void encode_frame_entry(const FrameEntry& e, std::span<uint8_t, kBundleEntryBytes> out);
// Checks the encoding, reserved bytes, raw_bytes in (0, kMaxFrameRawBytes], and stored_bytes
// (== raw_bytes for raw frames, in (0, raw_bytes] otherwise: the exporter never stores a frame
// that did not shrink).
Result<FrameEntry> decode_frame_entry(std::span<const uint8_t, kBundleEntryBytes> bytes,
                                      const std::string& name, uint64_t number);

// Frame codec. Scratch buffers are reused across calls to avoid reallocating per frame.
struct FrameCodecScratch;
struct FrameCodec {
  FrameCodec();
  ~FrameCodec();
  FrameCodec(const FrameCodec&) = delete;
  FrameCodec& operator=(const FrameCodec&) = delete;

  // Compresses `data` (float element width 2 or 4 to byte-group first, 0 for opaque bytes) at zstd
  // `level`; falls back to raw when compression does not shrink it. The stored bytes are left in
  // `out` (resized). Returns the encoding chosen.
  Result<FrameEncoding> encode(std::span<const uint8_t> data, unsigned float_width, int level,
                               std::vector<uint8_t>& out);
  // Decodes exactly out.size() bytes; any other decoded size, or a malformed frame, is a format
  // error naming `name`.
  Status decode(FrameEncoding encoding, std::span<const uint8_t> stored, std::span<uint8_t> out,
                const std::string& name);

 private:
  std::unique_ptr<FrameCodecScratch> s_;
};

}  // namespace modelswarm
