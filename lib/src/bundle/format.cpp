#include <algorithm>
#include <cstring>

#include "bundle/bundle_format.hpp"

namespace modelswarm {

namespace {

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

const char* frame_encoding_name(FrameEncoding e) {
  switch (e) {
    case FrameEncoding::raw: return "raw";
    case FrameEncoding::zstd: return "zstd";
    case FrameEncoding::grouped2_zstd: return "grouped2+zstd";
    case FrameEncoding::grouped4_zstd: return "grouped4+zstd";
  }
  return "unknown";
}

std::array<uint8_t, kBundleHeaderBytes> encode_bundle_header(const BundleHeader& h) {
  std::array<uint8_t, kBundleHeaderBytes> out{};
  std::memcpy(out.data(), kBundleMagic.data(), kBundleMagic.size());
  put_u32(out.data() + 8, kBundleVersion);
  put_u32(out.data() + 12, 0);
  put_u64(out.data() + 16, h.manifest_bytes);
  put_u64(out.data() + 24, h.signature_bytes);
  put_u64(out.data() + 32, h.torrent_bytes);
  put_u64(out.data() + 40, h.data_bytes);
  put_u64(out.data() + 48, h.entry_count);
  put_u64(out.data() + 56, 0);
  return out;
}

Result<BundleHeader> decode_bundle_header(std::span<const uint8_t> bytes, uint64_t file_size,
                                          const std::string& name) {
  if (bytes.size() < kBundleHeaderBytes || file_size < kBundleHeaderBytes)
    return Error::format(name + ": too short to be a modelswarm bundle");
  const uint8_t* p = bytes.data();
  if (!std::equal(kBundleMagic.begin(), kBundleMagic.end(), p))
    return Error::format(name + ": not a modelswarm bundle (bad magic)");
  uint32_t version = get_u32(p + 8);
  if (version != kBundleVersion)
    return Error::unsupported(name + ": bundle version " + std::to_string(version) +
                              " is not supported (expected " + std::to_string(kBundleVersion) + ")");
  if (get_u32(p + 12) != 0 || get_u64(p + 56) != 0)
    return Error::unsupported(name + ": bundle header has unknown flags set");
  BundleHeader h;
  h.manifest_bytes = get_u64(p + 16);
  h.signature_bytes = get_u64(p + 24);
  h.torrent_bytes = get_u64(p + 32);
  h.data_bytes = get_u64(p + 40);
  h.entry_count = get_u64(p + 48);
  if (h.manifest_bytes == 0 || h.manifest_bytes > kMaxBundleManifestBytes)
    return Error::format(name + ": manifest length out of range");
  if (h.signature_bytes == 0 || h.signature_bytes > kMaxBundleSignatureBytes)
    return Error::format(name + ": signature length out of range");
  if (h.torrent_bytes > kMaxBundleTorrentBytes)
    return Error::format(name + ": torrent length out of range");
  if (h.entry_count > kMaxBundleEntries)
    return Error::format(name + ": too many frames in the index");
  // The small sections are bounded above, so only data_bytes can overflow the sum.
  uint64_t fixed = h.data_offset() + h.entry_count * kBundleEntryBytes;
  if (h.data_bytes > file_size || fixed > file_size || h.data_bytes != file_size - fixed)
    return Error::format(name + ": section lengths do not match the file size (truncated or corrupt)");
  return h;
}

void encode_frame_entry(const FrameEntry& e, std::span<uint8_t, kBundleEntryBytes> out) {
  std::fill(out.begin(), out.end(), uint8_t{0});
  put_u32(out.data(), e.file);
  put_u32(out.data() + 4, e.chunk);
  out[8] = static_cast<uint8_t>(e.encoding);
  put_u64(out.data() + 16, e.file_offset);
  put_u64(out.data() + 24, e.raw_bytes);
  put_u64(out.data() + 32, e.stored_bytes);
}

Result<FrameEntry> decode_frame_entry(std::span<const uint8_t, kBundleEntryBytes> bytes,
                                      const std::string& name, uint64_t number) {
  const uint8_t* p = bytes.data();
  std::string where = name + ": frame " + std::to_string(number);
  FrameEntry e;
  e.file = get_u32(p);
  e.chunk = get_u32(p + 4);
  if (p[8] > static_cast<uint8_t>(FrameEncoding::grouped4_zstd))
    return Error::format(where + " has unknown encoding " + std::to_string(p[8]));
  e.encoding = static_cast<FrameEncoding>(p[8]);
  for (int i = 9; i < 16; ++i)
    if (p[i] != 0) return Error::format(where + " has non-zero reserved bytes");
  e.file_offset = get_u64(p + 16);
  e.raw_bytes = get_u64(p + 24);
  e.stored_bytes = get_u64(p + 32);
  if (e.raw_bytes == 0 || e.raw_bytes > kMaxFrameRawBytes)
    return Error::format(where + " has a decoded length out of range");
  if (e.encoding == FrameEncoding::raw ? e.stored_bytes != e.raw_bytes
                                       : (e.stored_bytes == 0 || e.stored_bytes > e.raw_bytes))
    return Error::format(where + " has a stored length out of range");
  return e;
}

}  // namespace modelswarm
