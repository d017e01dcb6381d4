// Measures the bundle's compression choices on the float tensors of a safetensors file, so the
// defaults in BundleWriteOptions rest on numbers (run by scripts/bench_bundle.sh):
// zstd level, byte grouping with and without the sign rotation, frame size, long-range mode,
// one frame for all byte planes versus one frame per plane. Single thread; ratios are over the
// bytes sampled.
//
//   bundle_variants FILE.safetensors [SAMPLE_MIB]
#include <zstd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "bundle/byte_group.hpp"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Byte planes without the sign rotation, most significant first: the textbook transform.
std::vector<uint8_t> plain_planes(const std::vector<uint8_t>& in) {
  size_t n = in.size() / 2;
  std::vector<uint8_t> out(in.size());
  for (size_t i = 0; i < n; ++i) {
    out[i] = in[2 * i + 1];
    out[n + i] = in[2 * i];
  }
  return out;
}

struct Variant {
  const char* name;
  int level;
  bool ldm;
  size_t frame;
  bool split_planes;  // compress each plane of a frame as its own zstd frame
};

void measure(const Variant& v, const std::vector<uint8_t>& data, int transform) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  std::vector<uint8_t> grouped(v.frame), out(ZSTD_compressBound(v.frame)), back(v.frame);
  std::vector<std::vector<uint8_t>> frames;
  std::vector<size_t> sizes;
  size_t stored = 0;
  double t0 = now();
  for (size_t off = 0; off < data.size(); off += v.frame) {
    size_t n = std::min(v.frame, data.size() - off);
    std::vector<uint8_t> src(data.begin() + off, data.begin() + off + n);
    if (transform == 1) modelswarm::byte_group(2, src, std::span<uint8_t>(grouped.data(), n));
    else if (transform == 2) {
      auto g = plain_planes(src);
      std::copy(g.begin(), g.end(), grouped.begin());
    } else std::copy(src.begin(), src.end(), grouped.begin());
    std::vector<std::pair<size_t, size_t>> parts;
    if (v.split_planes) parts = {{0, n / 2}, {n / 2, n - n / 2}};
    else parts = {{0, n}};
    for (auto [po, pn] : parts) {
      ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
      ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, v.level);
      if (v.ldm) ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1);
      size_t r = ZSTD_compress2(c, out.data(), out.size(), grouped.data() + po, pn);
      if (r >= pn) {  // stored raw, as the exporter does
        frames.emplace_back();
        stored += pn;
      } else {
        frames.emplace_back(out.begin(), out.begin() + r);
        stored += r;
      }
      sizes.push_back(pn);
    }
  }
  double t1 = now();
  for (size_t i = 0; i < frames.size(); ++i)
    if (!frames[i].empty()) ZSTD_decompressDCtx(d, back.data(), sizes[i], frames[i].data(), frames[i].size());
  double t2 = now();
  static const char* tn[] = {"none", "grouped+rotate", "grouped planes"};
  std::printf("  %-28s %-15s level %2d frame %5zu KiB: ratio %.4f  compress %6.0f MB/s  decompress %6.0f MB/s\n",
              v.name, tn[transform], v.level, v.frame >> 10, double(data.size()) / stored,
              data.size() / 1e6 / (t1 - t0), data.size() / 1e6 / (t2 - t1));
  ZSTD_freeCCtx(c);
  ZSTD_freeDCtx(d);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bundle_variants FILE.safetensors [SAMPLE_MIB]\n");
    return 2;
  }
  size_t sample = (argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 128) << 20;
  std::ifstream f(argv[1], std::ios::binary);
  uint8_t le[8];
  if (!f.read(reinterpret_cast<char*>(le), 8)) return 1;
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = hlen << 8 | le[i];
  if (hlen > (100u << 20)) return 1;
  std::string h(hlen, '\0');
  f.read(h.data(), static_cast<std::streamsize>(hlen));
  auto header = nlohmann::json::parse(h);
  // Sample BF16 tensors spread over the file, up to SAMPLE_MIB.
  std::vector<uint8_t> data;
  for (auto& [name, t] : header.items()) {
    if (name == "__metadata__" || t["dtype"] != "BF16") continue;
    uint64_t b = t["data_offsets"][0], e = t["data_offsets"][1];
    uint64_t n = std::min<uint64_t>(e - b, 16u << 20);
    if (data.size() + n > sample) break;
    std::vector<uint8_t> buf(n);
    f.seekg(static_cast<std::streamoff>(8 + hlen + b));
    f.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
    data.insert(data.end(), buf.begin(), buf.end());
  }
  std::printf("bundle_variants: %zu MiB of BF16 tensors from %s\n", data.size() >> 20, argv[1]);
  const size_t M = 1 << 20;
  measure({"plain zstd (baseline)", 3, false, 4 * M, false}, data, 0);
  measure({"plain zstd", 1, false, 4 * M, false}, data, 0);
  measure({"planes, no rotation", 1, false, 4 * M, false}, data, 2);
  measure({"chosen", 1, false, 4 * M, false}, data, 1);
  measure({"level 3", 3, false, 4 * M, false}, data, 1);
  measure({"level 9", 9, false, 4 * M, false}, data, 1);
  measure({"level -1", -1, false, 4 * M, false}, data, 1);
  measure({"long-range mode", 3, true, 16 * M, false}, data, 1);
  measure({"frame 1 MiB", 1, false, 1 * M, false}, data, 1);
  measure({"frame 16 MiB", 1, false, 16 * M, false}, data, 1);
  measure({"one zstd frame per plane", 1, false, 4 * M, true}, data, 1);
  return 0;
}
