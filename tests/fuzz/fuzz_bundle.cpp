// Bundle import on arbitrary bytes: the header, sections, index and frames of a hostile bundle
// must be refused with an error, never crash, read out of bounds or allocate more than the
// expected layout justifies. The layout is fixed (three files: opaque, BF16 and F32 chunks, an
// empty file); the seed corpus holds a valid bundle of it, so mutations reach the frame decoders
// and the hash checks. Also feeds the input straight to the frame decoder in every encoding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "bundle/bundle_format.hpp"
#include "modelswarm/bundle.hpp"

using namespace modelswarm;
namespace fs = std::filesystem;

namespace {

uint8_t content_byte(size_t file, uint64_t i) { return static_cast<uint8_t>((i * 37 + 11 + file * 101) >> (i % 3)); }

// Also used to write the seed: FUZZ_BUNDLE_WRITE_SEED=path makes the first run write a valid
// bundle of this layout there.
const BundleLayout& layout() {
  static const BundleLayout l = [] {
    BundleLayout out;
    struct Spec {
      std::string path;
      std::vector<std::pair<uint64_t, unsigned>> pieces;  // size, float width
    };
    std::vector<Spec> specs = {{"a.bin", {{100, 0}, {600, 2}, {400, 4}, {0, 0}}},
                               {"sub/b.bin", {{300, 0}}},
                               {"empty", {}}};
    for (size_t f = 0; f < specs.size(); ++f) {
      BundleFile bf;
      bf.path = specs[f].path;
      for (auto [size, width] : specs[f].pieces) {
        std::vector<uint8_t> data(size);
        for (uint64_t i = 0; i < size; ++i) data[i] = content_byte(f, bf.size + i);
        bf.pieces.push_back({bf.size, size, sha256(data.data(), data.size()), width});
        bf.size += size;
      }
      out.files.push_back(bf);
    }
    return out;
  }();
  return l;
}

// Never destroyed: the exit handler that removes it runs after static destructors.
const fs::path& scratch() {
  static const fs::path* p = [] {
    auto* d = new fs::path(fs::temp_directory_path() / ("fuzz_bundle." + std::to_string(::getpid())));
    fs::create_directories(*d);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch(), ec);
    });
    return d;
  }();
  return *p;
}

void write_seed(const char* path) {
  fs::path src = scratch() / "seed-src";
  for (size_t f = 0; f < layout().files.size(); ++f) {
    const BundleFile& bf = layout().files[f];
    fs::create_directories((src / bf.path).parent_path());
    std::string data(bf.size, '\0');
    for (uint64_t i = 0; i < bf.size; ++i) data[i] = static_cast<char>(content_byte(f, i));
    FILE* out = std::fopen((src / bf.path).c_str(), "wb");
    std::fwrite(data.data(), 1, data.size(), out);
    std::fclose(out);
  }
  BundleWriteOptions o;
  o.frame_bytes = 64 << 10;
  o.threads = 1;
  (void)write_bundle(path, BundleSections{"{}\n", "sig\n", ""}, layout(), src, o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool seeded = [] {
    if (const char* p = std::getenv("FUZZ_BUNDLE_WRITE_SEED")) write_seed(p);
    return true;
  }();
  (void)seeded;

  // The frame decoder alone, for each encoding, into a few output sizes.
  FrameCodec codec;
  for (uint8_t e = 0; e <= static_cast<uint8_t>(FrameEncoding::grouped4_zstd); ++e)
    for (size_t out_size : {size_t{1}, size_t{64}, size + 1, 4 * size + 7}) {
      std::vector<uint8_t> out(out_size);
      (void)codec.decode(static_cast<FrameEncoding>(e), std::span(data, size), out, "fuzz");
    }

  fs::path file = scratch() / "in.msb";
  FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto reader = BundleReader::open(file);
  if (reader.ok()) {
    fs::path dest = scratch() / "out";
    std::error_code ec;
    fs::remove_all(dest, ec);
    BundleExtractOptions o;
    o.threads = 2;
    o.sync = false;
    auto r = reader->extract(layout(), dest, o);
    // Accepted means every chunk hashed to the layout: the files must be exactly the content.
    if (r.ok()) {
      for (size_t i = 0; i < layout().files.size(); ++i)
        if (fs::file_size(dest / layout().files[i].path) != layout().files[i].size) __builtin_trap();
    }
    fs::remove_all(dest, ec);
  }
  return 0;
}
