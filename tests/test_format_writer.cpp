// GGUF and safetensors writers: what they write reads back identically, byte-for-byte
// deterministic, streamed across tensor boundaries, and never left half-written.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "modelswarm/gguf.hpp"
#include "modelswarm/gguf_writer.hpp"
#include "modelswarm/model_info.hpp"
#include "modelswarm/safetensors.hpp"
#include "modelswarm/safetensors_writer.hpp"
#include "process.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

size_t files_in(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

void fill_metadata(Metadata& m) {
  m.set("general.architecture", MetaValue::string("llama"));
  m.set("a.u8", MetaValue::u8(250));
  m.set("a.i8", MetaValue::i8(-100));
  m.set("a.u16", MetaValue::u16(65000));
  m.set("a.i16", MetaValue::i16(-32000));
  m.set("a.u32", MetaValue::u32(123456789));
  m.set("a.i32", MetaValue::i32(-123456789));
  m.set("a.f32", MetaValue::f32(0.25f));
  m.set("a.bool", MetaValue::boolean(true));
  m.set("a.u64", MetaValue::u64(1ull << 50));
  m.set("a.i64", MetaValue::i64(-(1ll << 50)));
  m.set("a.f64", MetaValue::f64(3.5));
  m.set("tok", MetaValue::string_array({"<unk>", "<s>", "", "\xe2\x96\x81the"}));
  std::vector<float> scores{0.f, -1.f, -2.f, -3.f};
  m.set("scores", MetaValue::f32_array(scores));
  std::vector<int32_t> types{2, 3, 3, 1};
  m.set("types", MetaValue::i32_array(types));
  m.set("nested", MetaValue::array_of_arrays(
                      {MetaValue::string_array({"x"}), MetaValue::i32_array(types),
                       MetaValue::array_of_arrays({MetaValue::f32_array(scores)})}));
}

// Writes a 3-tensor GGUF, feeding data in chunks of `chunk` bytes.
Status write_gguf(const fs::path& path, size_t chunk, uint32_t alignment = 32) {
  GgufWriter w(alignment);
  fill_metadata(w.metadata());
  MS_TRY(w.add_tensor("a", GgmlType::F32, {5, 3}));      // 60 bytes: padding follows
  MS_TRY(w.add_tensor("empty", GgmlType::F16, {0}));     // 0 bytes
  MS_TRY(w.add_tensor("b", GgmlType::Q4_0, {64, 2}));    // 72 bytes
  MS_TRY(w.add_tensor("c", GgmlType::Q6_K, {256}));      // 210 bytes
  MS_TRY(w.begin(path));
  std::vector<uint8_t> data = pattern(60 + 72 + 210, 1);
  for (size_t i = 0; i < data.size(); i += chunk)
    MS_TRY(w.write_data(std::span(data).subspan(i, std::min(chunk, data.size() - i))));
  return w.finish();
}

}  // namespace

TEST_CASE("GGUF writer: round trip of every metadata type and tensor layout") {
  mstest::TempDir dir;
  fs::path p = dir / "m.gguf";
  Status s = write_gguf(p, 1000);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  auto g = read_gguf(p);
  REQUIRE_MESSAGE(g.ok(), (g.ok() ? "" : g.error().message));
  Metadata expect;
  fill_metadata(expect);
  REQUIRE(g->metadata.size() == expect.size());
  for (size_t i = 0; i < expect.size(); ++i) {
    INFO(expect.entries()[i].first);
    CHECK(g->metadata.entries()[i] == expect.entries()[i]);
  }
  REQUIRE(g->tensors.size() == 4);
  CHECK(g->tensors[0].offset == 0);
  CHECK(g->tensors[2].offset == 64);  // 60 padded to 32
  CHECK(g->tensors[3].offset == 64 + 96);
  CHECK(g->tensors[3].size == 210);
  CHECK(g->file_size == g->data_offset + 64 + 96 + 224);
  // The data of tensor c lands where the header says.
  std::string bytes = mstest::read_file(p.string());
  std::vector<uint8_t> data = pattern(60 + 72 + 210, 1);
  CHECK(std::equal(data.begin() + 132, data.end(),
                   reinterpret_cast<const uint8_t*>(bytes.data()) + g->absolute_offset(g->tensors[3])));
  CHECK(files_in(dir.path()) == 1);  // no temporary file left behind
}

TEST_CASE("GGUF writer: deterministic, independent of how data is chunked; alignment") {
  mstest::TempDir dir;
  REQUIRE(write_gguf(dir / "a.gguf", 1).ok());
  REQUIRE(write_gguf(dir / "b.gguf", 7).ok());
  REQUIRE(write_gguf(dir / "c.gguf", 1 << 20).ok());
  std::string a = mstest::read_file((dir / "a.gguf").string());
  CHECK(a == mstest::read_file((dir / "b.gguf").string()));
  CHECK(a == mstest::read_file((dir / "c.gguf").string()));

  REQUIRE(write_gguf(dir / "d.gguf", 100, 128).ok());
  auto g = read_gguf(dir / "d.gguf");
  REQUIRE(g.ok());
  CHECK(g->alignment == 128);
  CHECK(g->data_offset % 128 == 0);
  CHECK(g->tensors[2].offset == 128);
  CHECK(g->metadata.get_u32("general.alignment").value() == 128);
}

TEST_CASE("GGUF writer: misuse is an error and leaves no file") {
  mstest::TempDir dir;
  GgufWriter w;
  CHECK(!w.add_tensor("q", GgmlType::Q4_0, {33}).ok());
  CHECK(!w.add_tensor("x", GgmlType::F32, {1, 1, 1, 1, 1}).ok());
  REQUIRE(w.add_tensor("x", GgmlType::F32, {4}).ok());
  CHECK(!w.add_tensor("x", GgmlType::F32, {4}).ok());
  REQUIRE(w.add_tensor("y", GgmlType::F32, {4}).ok());
  REQUIRE(w.begin(dir / "m.gguf").ok());
  auto d = pattern(16, 0);
  REQUIRE(w.write_data(d).ok());
  CHECK(w.current_tensor() == 1);
  auto f = w.finish();  // y never written
  REQUIRE(!f.ok());
  CHECK(f.error().message.find("'y'") != std::string::npos);
  CHECK(!fs::exists(dir / "m.gguf"));
  CHECK(files_in(dir.path()) == 0);

  GgufWriter over;
  REQUIRE(over.add_tensor("x", GgmlType::F32, {1}).ok());
  REQUIRE(over.begin(dir / "o.gguf").ok());
  CHECK(!over.write_data(pattern(5, 0)).ok());
}

TEST_CASE("GGUF writer: a writer destroyed before finish() leaves nothing behind") {
  mstest::TempDir dir;
  {
    GgufWriter w;
    REQUIRE(w.add_tensor("x", GgmlType::F32, {4}).ok());
    REQUIRE(w.begin(dir / "m.gguf").ok());
    CHECK(files_in(dir.path()) == 1);  // the temporary
  }
  CHECK(files_in(dir.path()) == 0);
}

TEST_CASE("safetensors writer: round trip, 8-byte aligned data, sharded index") {
  mstest::TempDir dir;
  std::map<std::string, std::string> weight_map;
  uint64_t total = 0;
  for (int shard = 1; shard <= 2; ++shard) {
    SafetensorsWriter w;
    w.set_metadata("format", "pt");
    std::string base = "layer" + std::to_string(shard);
    REQUIRE(w.add_tensor(base + ".w", "BF16", {3, 5}).ok());
    REQUIRE(w.add_tensor(base + ".b", "F32", {3}).ok());
    REQUIRE(w.add_tensor(base + ".m", "BOOL", {2}).ok());
    CHECK(!w.add_tensor(base + ".w", "F32", {1}).ok());
    CHECK(!w.add_tensor("__metadata__", "F32", {1}).ok());
    CHECK(!w.add_tensor("z", "Q4_0", {1}).ok());
    CHECK(!w.add_tensor("z", "F4", {3}).ok());
    std::string name = "model-0000" + std::to_string(shard) + "-of-00002.safetensors";
    REQUIRE(w.begin(dir / name).ok());
    auto data = pattern(w.data_size(), static_cast<uint8_t>(shard));
    REQUIRE(w.write_data(std::span(data).first(11)).ok());
    REQUIRE(w.write_data(std::span(data).subspan(11)).ok());
    REQUIRE(w.finish().ok());
    for (const auto& t : w.tensors()) weight_map[t.name] = name;
    total += w.data_size();

    auto r = read_safetensors(dir / name);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    CHECK(r->data_offset % 8 == 0);
    CHECK(r->metadata.size() == 1);
    REQUIRE(r->tensors.size() == 3);
    CHECK(r->tensors[0].name == base + ".w");
    CHECK(r->tensors[0].shape == std::vector<uint64_t>{3, 5});
    CHECK(r->tensors[2].size() == 2);
    std::string bytes = mstest::read_file((dir / name).string());
    CHECK(bytes.substr(r->data_offset) == std::string(data.begin(), data.end()));
  }
  REQUIRE(write_safetensors_index(dir / kSafetensorsIndexName, weight_map, total).ok());
  auto m = read_model_info(dir.path());
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  CHECK(m->files.size() == 2);
  CHECK(m->tensors.size() == 6);
  CHECK(m->tensor_bytes() == total);
}

TEST_CASE("safetensors writer: short data is an error and leaves no file") {
  mstest::TempDir dir;
  SafetensorsWriter w;
  REQUIRE(w.add_tensor("x", "F32", {4}).ok());
  REQUIRE(w.begin(dir / "x.safetensors").ok());
  REQUIRE(w.write_data(pattern(8, 0)).ok());
  CHECK(!w.write_data(pattern(9, 0)).ok());
  CHECK(!w.finish().ok());
  CHECK(files_in(dir.path()) == 0);
}
