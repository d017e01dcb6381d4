// The bundle container and its codec through the public API: byte grouping, frame encodings,
// round trips of a layout with float, quantized and tiny chunks, and hostile bundles.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "modelswarm/bundle.hpp"
#include "bundle/bundle_format.hpp"
#include "bundle/byte_group.hpp"
#include "corrupt.hpp"
#include "process.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
namespace fs = std::filesystem;

namespace {

uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

// Gaussian weights with a per-row scale, as trained matrices look.
std::vector<uint8_t> bf16_weights(size_t rows, size_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0, 1);
  std::lognormal_distribution<float> scale(-4.0f, 0.5f);
  std::vector<uint8_t> out(rows * cols * 2);
  for (size_t r = 0; r < rows; ++r) {
    float s = scale(rng);
    for (size_t c = 0; c < cols; ++c) {
      uint16_t v = to_bf16(nd(rng) * s);
      std::memcpy(out.data() + 2 * (r * cols + c), &v, 2);
    }
  }
  return out;
}

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

std::vector<uint8_t> f32_weights(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0, 0.02f);
  std::vector<uint8_t> out(n * 4);
  for (size_t i = 0; i < n; ++i) {
    float v = nd(rng);
    std::memcpy(out.data() + 4 * i, &v, 4);
  }
  return out;
}

struct Fixture {
  mstest::TempDir tmp;
  fs::path src = tmp / "src";
  BundleLayout layout;
  BundleSections sections{"{\"manifest\":1}\n", "untrusted comment: x\nsig\n", ""};

  // Adds a file made of the given chunks (data, float width).
  void add_file(const std::string& path,
                const std::vector<std::pair<std::vector<uint8_t>, unsigned>>& chunks) {
    BundleFile f;
    f.path = path;
    std::string all;
    for (const auto& [data, width] : chunks) {
      BundlePiece p;
      p.offset = f.size;
      p.size = data.size();
      p.sha256 = sha256(data.data(), data.size());
      p.float_width = width;
      f.pieces.push_back(p);
      f.size += data.size();
      all.append(reinterpret_cast<const char*>(data.data()), data.size());
    }
    fs::create_directories((src / path).parent_path());
    mstest::write_file((src / path).string(), all);
    layout.files.push_back(f);
  }

  BundleWriteOptions small_frames() {
    BundleWriteOptions o;
    o.frame_bytes = 64 << 10;  // several frames per chunk, so chunk spanning is exercised
    o.threads = 2;
    return o;
  }
};

using mstest::flip_byte;

}  // namespace

TEST_CASE("byte grouping is invertible for both widths and odd tails") {
  for (unsigned width : {2u, 4u}) {
    for (size_t n : {0u, 1u, 3u, 4u, 7u, 1000u, 1001u, 1003u}) {
      auto in = random_bytes(n, n * 7 + width);
      std::vector<uint8_t> g(n), back(n);
      byte_group(width, in, g);
      byte_ungroup(width, g, back);
      CHECK(back == in);
    }
  }
}

TEST_CASE("byte grouping puts the BF16 exponent in the first plane") {
  // 1.0f in BF16 is 0x3F80: sign 0, exponent 127, mantissa 0.
  std::vector<uint8_t> in = {0x80, 0x3F, 0x80, 0xBF};  // 1.0, -1.0
  std::vector<uint8_t> g(4);
  byte_group(2, in, g);
  CHECK(g[0] == 127);  // exponent byte of 1.0
  CHECK(g[1] == 127);  // and of -1.0: the sign moved to the low plane
  CHECK(g[2] == 0);
  CHECK(g[3] == 1);
}

TEST_CASE("frame codec: float frames shrink, random frames stay raw, all decode exactly") {
  FrameCodec codec;
  std::vector<uint8_t> stored, back;

  auto w = bf16_weights(64, 1024, 1);
  auto enc = codec.encode(w, 2, 1, stored);
  REQUIRE(enc.ok());
  CHECK(*enc == FrameEncoding::grouped2_zstd);
  CHECK(stored.size() * 13 < w.size() * 10);  // better than 1.3x on gaussian BF16
  back.resize(w.size());
  REQUIRE(codec.decode(*enc, stored, back, "t").ok());
  CHECK(back == w);

  auto r = random_bytes(100000, 2);
  enc = codec.encode(r, 0, 1, stored);
  REQUIRE(enc.ok());
  CHECK(*enc == FrameEncoding::raw);
  CHECK(stored == r);

  std::vector<uint8_t> zeros(50000, 0);
  enc = codec.encode(zeros, 0, 1, stored);
  REQUIRE(enc.ok());
  CHECK(*enc == FrameEncoding::zstd);
  back.resize(zeros.size());
  REQUIRE(codec.decode(*enc, stored, back, "t").ok());
  CHECK(back == zeros);

  // A frame that decodes to a different length than the index says is refused.
  back.resize(zeros.size() - 1);
  auto bad = codec.decode(*enc, stored, back, "t");
  REQUIRE(!bad.ok());
  CHECK(bad.error().code == ErrorCode::format);
  // Garbage is refused, not crashed on.
  auto junk = random_bytes(300, 3);
  back.resize(1000);
  CHECK(!codec.decode(FrameEncoding::zstd, junk, back, "t").ok());
  CHECK(!codec.decode(FrameEncoding::grouped4_zstd, junk, back, "t").ok());
}

TEST_CASE("header and index entries: bounds are enforced") {
  BundleHeader h;
  h.manifest_bytes = 10;
  h.signature_bytes = 5;
  h.data_bytes = 100;
  h.entry_count = 2;
  auto bytes = encode_bundle_header(h);
  auto ok = decode_bundle_header(bytes, h.total_bytes(), "b");
  REQUIRE(ok.ok());
  CHECK(ok->data_bytes == 100);
  CHECK(decode_bundle_header(bytes, h.total_bytes() - 1, "b").error().code == ErrorCode::format);
  CHECK(decode_bundle_header(bytes, h.total_bytes() + 1, "b").error().code == ErrorCode::format);
  h.data_bytes = ~uint64_t{0} - 10;  // would overflow the sum
  CHECK(!decode_bundle_header(encode_bundle_header(h), 1000, "b").ok());
  auto v2 = encode_bundle_header(BundleHeader{10, 5, 0, 0, 0});
  v2[8] = 2;
  CHECK(decode_bundle_header(v2, 79, "b").error().code == ErrorCode::unsupported);

  std::array<uint8_t, kBundleEntryBytes> e{};
  encode_frame_entry(FrameEntry{0, 0, FrameEncoding::zstd, 0, 100, 101}, e);
  CHECK(!decode_frame_entry(e, "b", 0).ok());  // stored larger than raw
  encode_frame_entry(FrameEntry{0, 0, FrameEncoding::raw, 0, kMaxFrameRawBytes + 1,
                                kMaxFrameRawBytes + 1}, e);
  CHECK(!decode_frame_entry(e, "b", 0).ok());
  encode_frame_entry(FrameEntry{0, 0, FrameEncoding::raw, 0, 100, 100}, e);
  CHECK(decode_frame_entry(e, "b", 0).ok());
  e[8] = 9;
  CHECK(!decode_frame_entry(e, "b", 0).ok());
}

TEST_CASE("container round trip: float, F32, quantized-like, empty and tiny chunks") {
  Fixture fx;
  fx.add_file("model.safetensors", {{random_bytes(200, 1), 0},
                                    {bf16_weights(128, 1024, 2), 2},
                                    {f32_weights(5000, 3), 4},
                                    {bf16_weights(3, 5, 4), 2}});
  fx.add_file("sub/q.gguf", {{random_bytes(1000, 5), 0}, {random_bytes(300000, 6), 0}});
  fx.add_file("empty.txt", {});
  fx.add_file("zeros.bin", {{std::vector<uint8_t>(100000, 0), 0}});

  fs::path out = fx.tmp / "b.msbundle";
  auto w = write_bundle(out, fx.sections, fx.layout, fx.src, fx.small_frames());
  REQUIRE_MESSAGE(w.ok(), w.error().message);
  CHECK(w->bytes_out == fs::file_size(out));
  CHECK(w->bytes_in == fx.layout.total_bytes());
  CHECK(w->raw_frames > 0);      // the random "quantized" data
  CHECK(w->grouped_frames > 0);  // the float tensors

  auto r = BundleReader::open(out);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->sections().manifest == fx.sections.manifest);
  CHECK(r->sections().signature == fx.sections.signature);
  CHECK(r->sections().torrent.empty());
  fs::path dest = fx.tmp / "dest";
  auto x = r->extract(fx.layout, dest, {});
  REQUIRE_MESSAGE(x.ok(), x.error().message);
  for (const auto& f : fx.layout.files)
    CHECK(mstest::read_file((dest / f.path).string()) == mstest::read_file((fx.src / f.path).string()));
  CHECK(x->bytes_out == fx.layout.total_bytes());
}

TEST_CASE("export refuses source data that does not match the layout's hashes") {
  Fixture fx;
  fx.add_file("a.bin", {{bf16_weights(16, 256, 1), 2}});
  flip_byte(fx.src / "a.bin", 100);
  auto w = write_bundle(fx.tmp / "b", fx.sections, fx.layout, fx.src, fx.small_frames());
  REQUIRE(!w.ok());
  CHECK(w.error().code == ErrorCode::content);
  CHECK(!fs::exists(fx.tmp / "b"));
  for (auto& e : fs::directory_iterator(fx.tmp.path())) CHECK(e.path().filename().string().find("part") == std::string::npos);
}

TEST_CASE("hostile bundles: every flipped byte and every truncation is refused") {
  Fixture fx;
  fx.add_file("m.bin", {{random_bytes(100, 1), 0}, {bf16_weights(40, 1024, 2), 2},
                        {random_bytes(70000, 3), 0}});
  fs::path out = fx.tmp / "b";
  REQUIRE(write_bundle(out, fx.sections, fx.layout, fx.src, fx.small_frames()).ok());
  std::string good = mstest::read_file(out.string());

  // The sections (manifest/signature) are opaque at this level; flips anywhere else must fail.
  uint64_t data_start = kBundleHeaderBytes + fx.sections.manifest.size() + fx.sections.signature.size();
  std::mt19937_64 rng(42);
  std::vector<uint64_t> positions;
  for (uint64_t i = 0; i < kBundleHeaderBytes; ++i) positions.push_back(i);
  for (int i = 0; i < 60; ++i) positions.push_back(data_start + rng() % (good.size() - data_start));
  for (uint64_t i = good.size() - 200; i < good.size(); ++i) positions.push_back(i);
  int n = 0;
  for (uint64_t pos : positions) {
    std::string bad = good;
    bad[pos] ^= static_cast<char>(1 + rng() % 255);
    mstest::write_file(out.string(), bad);
    auto r = BundleReader::open(out);
    if (!r.ok()) {
      CHECK((r.error().code == ErrorCode::format || r.error().code == ErrorCode::unsupported));
      continue;
    }
    fs::path dest = fx.tmp / ("d" + std::to_string(n++));
    auto x = r->extract(fx.layout, dest, {});
    // Reserved bytes of the header or index could in principle be the only change; every byte
    // here matters, so each flip must be refused.
    CHECK_MESSAGE(!x.ok(), "flip at " << pos << " accepted");
    if (!x.ok())
      CHECK((x.error().code == ErrorCode::format || x.error().code == ErrorCode::content));
  }
  for (uint64_t len : {uint64_t{0}, uint64_t{10}, uint64_t{64}, data_start + 5, good.size() / 2,
                       good.size() - 1}) {
    mstest::write_file(out.string(), std::string(good.data(), len));
    auto r = BundleReader::open(out);
    CHECK(!r.ok());
  }
}
