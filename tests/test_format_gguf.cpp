// GGUF reader: valid files of every value type, and hostile files (truncated, overflowing,
// misaligned, overlapping, non-UTF-8) that must each give a clear format error.
#include <doctest/doctest.h>

#include <cstring>
#include <limits>

#include "format_bytes.hpp"
#include "modelswarm/gguf.hpp"
#include "modelswarm/model_info.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
using mstest::Bytes;

namespace {

std::span<const uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Result<GgufFile> parse(const std::string& s) { return parse_gguf(span_of(s), s.size(), "t.gguf"); }

// Header start: magic, version, counts.
Bytes header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  Bytes b;
  b.raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  return b;
}

void tensor_info(Bytes& b, std::string_view name, std::initializer_list<uint64_t> dims,
                 GgmlType type, uint64_t offset) {
  b.str(name).u32(static_cast<uint32_t>(dims.size()));
  for (uint64_t d : dims) b.u64(d);
  b.u32(static_cast<uint32_t>(type)).u64(offset);
}

// A valid v3 file: every scalar type, strings, arrays (nested too) and two tensors.
std::string valid_file(uint32_t version = 3) {
  Bytes b = header(2, 16, version);
  b.str("general.architecture").u32(8).str("llama");
  b.str("k.u8").u32(0).u8(200);
  b.str("k.i8").u32(1).u8(0xFE);  // -2
  b.str("k.u16").u32(2).put<uint16_t>(60000);
  b.str("k.i16").u32(3).put<int16_t>(-300);
  b.str("k.u32").u32(4).u32(4000000000u);
  b.str("k.i32").u32(5).put<int32_t>(-7);
  b.str("k.f32").u32(6).f32(1e-5f);
  b.str("k.bool").u32(7).u8(1);
  b.str("k.u64").u32(10).u64(1ull << 40);
  b.str("k.i64").u32(11).put<int64_t>(-(1ll << 40));
  b.str("k.f64").u32(12).put<double>(10000.0);
  b.str("tokens").u32(9).u32(8).u64(3).str("<unk>").str("<s>").str("</s>");
  b.str("scores").u32(9).u32(6).u64(3).f32(0).f32(-1.5f).f32(-2.5f);
  b.str("types").u32(9).u32(5).u64(3).put<int32_t>(2).put<int32_t>(3).put<int32_t>(3);
  // [[1,2],[3]] as u16 arrays inside an array.
  b.str("nested").u32(9).u32(9).u64(2);
  b.u32(2).u64(2).put<uint16_t>(1).put<uint16_t>(2);
  b.u32(2).u64(1).put<uint16_t>(3);
  tensor_info(b, "a.weight", {4, 2}, GgmlType::F32, 0);     // 32 bytes
  tensor_info(b, "b.weight", {64, 1}, GgmlType::Q4_0, 32);  // 2 blocks x 18 = 36 bytes
  b.pad_to(32);
  b.zeros(32 + 36);
  return b.b;
}

std::string message_of(const Result<GgufFile>& r) { return r.ok() ? "" : r.error().message; }

}  // namespace

TEST_CASE("a valid v3 file: every value type, arrays, nested arrays, tensors") {
  std::string s = valid_file();
  auto r = parse(s);
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  const GgufFile& f = *r;
  CHECK(f.version == 3);
  CHECK(f.alignment == 32);
  CHECK(f.data_offset % 32 == 0);
  CHECK(f.data_offset + 32 + 36 == s.size());
  const Metadata& m = f.metadata;
  CHECK(m.size() == 16);
  CHECK(m.entries()[0].first == "general.architecture");  // file order is kept
  CHECK(m.get_string("general.architecture").value() == "llama");
  CHECK(m.find("k.u8")->type() == MetaType::u8);
  CHECK(m.get_u32("k.u8").value() == 200);
  CHECK(m.get_i64("k.i8").value() == -2);
  CHECK(m.get_u32("k.u16").value() == 60000);
  CHECK(m.get_i64("k.i16").value() == -300);
  CHECK(m.get_u32("k.u32").value() == 4000000000u);
  CHECK(m.get_i64("k.i32").value() == -7);
  CHECK(m.get_f32("k.f32").value() == doctest::Approx(1e-5f));
  CHECK(m.get_bool("k.bool").value());
  CHECK(m.get_u64("k.u64").value() == (1ull << 40));
  CHECK(m.get_i64("k.i64").value() == -(1ll << 40));
  CHECK(m.get_f32("k.f64").value() == 10000.0f);
  auto tokens = m.get_string_array("tokens");
  REQUIRE(tokens.ok());
  REQUIRE(tokens->size() == 3);
  CHECK((*tokens)[1] == "<s>");
  CHECK(m.get_f32_array("scores").value() == std::vector<float>{0, -1.5f, -2.5f});
  CHECK(m.get_i32_array("types").value() == std::vector<int32_t>{2, 3, 3});
  const MetaValue* nested = m.find("nested");
  REQUIRE(nested);
  CHECK(nested->elem_type() == MetaType::array);
  REQUIRE(nested->items().size() == 2);
  CHECK(nested->items()[0].elem_type() == MetaType::u16);
  CHECK(nested->items()[0].size() == 2);
  CHECK(nested->items()[0].number_at(1) == 2);
  CHECK(nested->items()[1].number_at(0) == 3);

  REQUIRE(f.tensors.size() == 2);
  CHECK(f.tensors[0].name == "a.weight");
  CHECK(f.tensors[0].dims == std::vector<uint64_t>{4, 2});
  CHECK(f.tensors[0].size == 32);
  CHECK(f.tensors[1].type == GgmlType::Q4_0);
  CHECK(f.tensors[1].size == 36);
  CHECK(f.absolute_offset(f.tensors[1]) == f.data_offset + 32);
  CHECK(f.find_tensor("b.weight") == &f.tensors[1]);
}

TEST_CASE("accessors report missing keys and wrong types naming the file and key") {
  auto r = parse(valid_file());
  REQUIRE(r.ok());
  const Metadata& m = r->metadata;
  auto missing = m.get_u32("llama.block_count");
  REQUIRE(!missing.ok());
  CHECK(missing.error().message.find("t.gguf") != std::string::npos);
  CHECK(missing.error().message.find("llama.block_count") != std::string::npos);
  CHECK(!m.get_string("k.u32").ok());
  CHECK(!m.get_u32("k.u64").ok());  // does not fit
  CHECK(!m.get_u32("k.i32").ok());  // negative
  CHECK(!m.get_string_array("scores").ok());
  CHECK(m.u32_or("nope", 7) == 7);
  CHECK(m.f32_or("k.f32", 3) == doctest::Approx(1e-5f));
}

TEST_CASE("version 2 is read; version 1, unknown versions and big-endian files are refused") {
  CHECK(parse(valid_file(2)).ok());
  auto v1 = parse(valid_file(1));
  REQUIRE(!v1.ok());
  CHECK(v1.error().code == ErrorCode::unsupported);
  CHECK(v1.error().message.find("version 1") != std::string::npos);
  auto be = parse(valid_file(0x03000000));
  REQUIRE(!be.ok());
  CHECK(be.error().message.find("big-endian") != std::string::npos);
  CHECK(!parse(valid_file(4)).ok());
  std::string bad = valid_file();
  bad[0] = 'X';
  CHECK(parse(bad).error().message.find("not a GGUF file") != std::string::npos);
}

TEST_CASE("every truncation of a valid header is a format error, never a crash") {
  std::string s = valid_file();
  auto full = parse(s);
  REQUIRE(full.ok());
  // Cutting anywhere inside the header or the tensor data must fail.
  for (size_t n = 0; n < s.size(); ++n) {
    std::string cut = s.substr(0, n);
    auto r = parse(cut);
    REQUIRE_MESSAGE(!r.ok(), "prefix " << n << " accepted");
    CHECK(r.error().code == ErrorCode::format);
    CHECK(r.error().message.rfind("t.gguf: ", 0) == 0);
  }
}

TEST_CASE("counts that cannot fit in the file are refused before allocating") {
  CHECK(message_of(parse(header(0, 1ull << 62).b)).find("metadata count") != std::string::npos);
  CHECK(message_of(parse(header(UINT64_MAX, 0).b)).find("tensor count") != std::string::npos);
  Bytes arr = header(0, 1);
  arr.str("a").u32(9).u32(10).u64(1ull << 61);  // 2^61 u64 elements
  CHECK(message_of(parse(arr.b)).find("more than the file can hold") != std::string::npos);
  CHECK(message_of(parse(header(0, 1 << 21).b)).find("over the limit") != std::string::npos);
  Bytes capped = header(0, 1);
  capped.str("a").u32(9).u32(8).u64(1ull << 25);
  CHECK(message_of(parse(capped.b)).find("over the limit") != std::string::npos);
  Bytes nested = header(0, 1);
  nested.str("a").u32(9).u32(9).u64(1ull << 21);
  CHECK(message_of(parse(nested.b)).find("over the limit") != std::string::npos);
  Bytes strs = header(0, 1);
  strs.str("a").u32(9).u32(8).u64(UINT64_MAX);
  CHECK(!parse(strs.b).ok());
  Bytes longstr = header(0, 1);
  longstr.str("a").u32(8).u64(UINT64_MAX - 3);
  CHECK(!parse(longstr.b).ok());
  Bytes longkey = header(0, 1);
  longkey.u64(1ull << 40).zeros(64);
  CHECK(message_of(parse(longkey.b)).find("limit") != std::string::npos);
  // A claimed 2^40-byte string in a file that says it is huge (memory mode) is still bounded
  // by the bytes actually given.
  Bytes s = header(0, 1);
  s.str("a").u32(8).u64(1ull << 20);
  CHECK(!parse_gguf(span_of(s.b), 1ull << 50, "big.gguf").ok());
}

TEST_CASE("bad value types, deep nesting, duplicate keys and non-UTF-8 names are refused") {
  Bytes t = header(0, 1);
  t.str("a").u32(13).u32(0);
  CHECK(message_of(parse(t.b)).find("unknown value type 13") != std::string::npos);
  Bytes et = header(0, 1);
  et.str("a").u32(9).u32(99).u64(0);
  CHECK(message_of(parse(et.b)).find("unknown element type") != std::string::npos);
  Bytes deep = header(0, 1);
  deep.str("a").u32(9);
  for (int i = 0; i < 20; ++i) deep.u32(9).u64(1);
  deep.u32(0).u64(0);
  CHECK(message_of(parse(deep.b)).find("deeper") != std::string::npos);
  Bytes dup = header(0, 2);
  dup.str("k").u32(4).u32(1).str("k").u32(4).u32(2);
  CHECK(message_of(parse(dup.b)).find("duplicate metadata key 'k'") != std::string::npos);
  Bytes utf = header(0, 1);
  utf.str("bad\xff\xfe").u32(4).u32(1);
  CHECK(message_of(parse(utf.b)).find("not valid UTF-8") != std::string::npos);
  Bytes align = header(0, 1);
  align.str("general.alignment").u32(4).u32(24);
  CHECK(message_of(parse(align.b)).find("power of two") != std::string::npos);
  Bytes align0 = header(0, 1);
  align0.str("general.alignment").u32(4).u32(0);
  CHECK(!parse(align0.b).ok());
}

TEST_CASE("tensor infos: dims, types, overflow, alignment, bounds and overlap") {
  auto with_tensors = [](auto add, size_t data_bytes) {
    Bytes b = header(2, 0);
    add(b);
    b.pad_to(32);
    b.zeros(data_bytes);
    return b.b;
  };
  auto one = [&](std::initializer_list<uint64_t> dims, GgmlType type, uint64_t off, size_t data) {
    Bytes b = header(1, 0);
    tensor_info(b, "t", dims, type, off);
    b.pad_to(32);
    b.zeros(data);
    return parse(b.b);
  };
  CHECK(one({4}, GgmlType::F32, 0, 16).ok());
  CHECK(one({}, GgmlType::F32, 0, 4).ok());  // 0-d: one element
  CHECK(message_of(one({4}, GgmlType::F32, 0, 15)).find("past the end") != std::string::npos);
  CHECK(message_of(one({4}, GgmlType::F32, 8, 64)).find("not a multiple of the alignment") !=
        std::string::npos);
  CHECK(message_of(one({4}, GgmlType::F32, UINT64_MAX - 31, 64)).find("past the end") !=
        std::string::npos);
  CHECK(message_of(one({48}, GgmlType::Q4_0, 0, 64)).find("block size") != std::string::npos);
  CHECK(message_of(one({1ull << 40, 1ull << 40}, GgmlType::F32, 0, 0)).find("overflow") !=
        std::string::npos);
  CHECK(message_of(one({1ull << 62, 2}, GgmlType::F32, 0, 0)).find("overflow") !=
        std::string::npos);
  CHECK(message_of(one({1ull << 61}, GgmlType::F64, 0, 0)).find("overflow") != std::string::npos);
  {
    Bytes b = header(1, 0);
    b.str("t").u32(5).u64(1).u64(1).u64(1).u64(1).u64(1).u32(0).u64(0);
    CHECK(message_of(parse(b.b)).find("5 dimensions") != std::string::npos);
  }
  auto unk = one({4}, static_cast<GgmlType>(4), 0, 64);  // id 4 was removed from ggml
  REQUIRE(!unk.ok());
  CHECK(unk.error().code == ErrorCode::unsupported);

  auto overlap = parse(with_tensors(
      [](Bytes& b) {
        tensor_info(b, "x", {16}, GgmlType::F32, 0);
        tensor_info(b, "y", {8}, GgmlType::F32, 32);
      },
      128));
  CHECK(message_of(overlap).find("overlap") != std::string::npos);
  auto dup = parse(with_tensors(
      [](Bytes& b) {
        tensor_info(b, "x", {8}, GgmlType::F32, 0);
        tensor_info(b, "x", {8}, GgmlType::F32, 32);
      },
      64));
  CHECK(message_of(dup).find("duplicate tensor name") != std::string::npos);
  auto bad_name = parse(with_tensors(
      [](Bytes& b) {
        tensor_info(b, "x\xc0\x80", {8}, GgmlType::F32, 0);
        tensor_info(b, "y", {8}, GgmlType::F32, 32);
      },
      64));
  CHECK(message_of(bad_name).find("not valid UTF-8") != std::string::npos);
}

TEST_CASE("a file without tensors: the header is the whole file, padded or not") {
  Bytes b = header(0, 1);
  b.str("general.architecture").u32(8).str("llama");
  auto r = parse(b.b);
  REQUIRE(r.ok());
  CHECK(r->data_offset == b.size());
  b.pad_to(32);
  CHECK(parse(b.b)->data_offset == b.size());
}

TEST_CASE("general.alignment moves the data section and tensor offsets") {
  Bytes b = header(2, 1);
  b.str("general.alignment").u32(4).u32(256);
  tensor_info(b, "x", {8}, GgmlType::F32, 0);
  tensor_info(b, "y", {8}, GgmlType::F32, 256);
  b.pad_to(256);
  b.zeros(256 + 32);
  auto r = parse(b.b);
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  CHECK(r->alignment == 256);
  CHECK(r->data_offset == 256);
}

TEST_CASE("read_gguf and read_model_info read a file and a directory holding one") {
  mstest::TempDir dir;
  std::string path = (dir / "m.gguf").string();
  mstest::write_bytes(path, valid_file());
  auto g = read_gguf(path);
  REQUIRE_MESSAGE(g.ok(), message_of(g));
  CHECK(g->file_size == valid_file().size());

  for (const auto& p : {std::filesystem::path(path), dir.path()}) {
    auto m = read_model_info(p);
    REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
    CHECK(m->format == ModelFormat::gguf);
    CHECK(m->files.size() == 1);
    CHECK(m->header_sizes[0] == g->data_offset);
    CHECK(m->architecture() == "llama");
    REQUIRE(m->tensors.size() == 2);
    CHECK(m->tensors[1].dtype == "Q4_0");
    CHECK(m->tensors[1].ggml_type == GgmlType::Q4_0);
    CHECK(m->tensors[1].offset == g->data_offset + 32);
    CHECK(m->tensors[1].shape == std::vector<uint64_t>{64, 1});
    CHECK(m->row_major_shape(m->tensors[1]) == std::vector<uint64_t>{1, 64});
    CHECK(m->parameter_count() == 8 + 64);
  }
  auto missing = read_model_info(dir / "nope.gguf");
  REQUIRE(!missing.ok());
  CHECK(missing.error().code == ErrorCode::io);
  auto not_model = read_model_info(dir / "x.bin");
  CHECK(!not_model.ok());
  mstest::write_bytes((dir / "junk.bin").string(), "hello world, not a model");
  auto junk = read_model_info(dir / "junk.bin");
  REQUIRE(!junk.ok());
  CHECK(junk.error().code == ErrorCode::format);
  CHECK(junk.error().message.find("junk.bin") != std::string::npos);
}

TEST_CASE("64-bit integer array elements are displayed exactly, even past long long's range") {
  std::vector<uint8_t> raw(16);
  uint64_t big = std::numeric_limits<uint64_t>::max();
  int64_t neg = std::numeric_limits<int64_t>::min();
  std::memcpy(raw.data(), &big, 8);
  std::memcpy(raw.data() + 8, &neg, 8);
  CHECK(modelswarm::MetaValue::numeric_array(modelswarm::MetaType::u64, raw).to_display() ==
        "[u64 x 2] 18446744073709551615, 9223372036854775808");
  CHECK(modelswarm::MetaValue::numeric_array(modelswarm::MetaType::i64, raw).to_display() ==
        "[i64 x 2] -1, -9223372036854775808");
}
