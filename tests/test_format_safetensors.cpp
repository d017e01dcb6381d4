// safetensors reader and sharded checkpoints: valid files of every dtype family, and hostile
// headers (over the size limit, truncated, overlapping, gapped, non-UTF-8, duplicate keys).
#include <doctest/doctest.h>

#include <filesystem>

#include "format_bytes.hpp"
#include "modelswarm/model_info.hpp"
#include "modelswarm/safetensors.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
using mstest::safetensors_bytes;

namespace {

std::span<const uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Result<SafetensorsFile> parse(const std::string& s) {
  return parse_safetensors(span_of(s), s.size(), "m.safetensors");
}

std::string message_of(const Result<SafetensorsFile>& r) { return r.ok() ? "" : r.error().message; }

// Header for one tensor of `bytes` bytes.
std::string one(const std::string& dtype, const std::string& shape, uint64_t b, uint64_t e,
                const std::string& name = "t") {
  return "{\"" + name + R"(":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":[)" +
         std::to_string(b) + "," + std::to_string(e) + "]}}";
}

const char* kValidHeader =
    R"({"__metadata__":{"format":"pt","note":"x"},)"
    R"("w.f8":{"dtype":"F8_E4M3","shape":[2,3],"data_offsets":[24,30]},)"
    R"("w.bf16":{"dtype":"BF16","shape":[2,2],"data_offsets":[16,24]},)"
    R"("w.f32":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
    R"("mask":{"dtype":"BOOL","shape":[3],"data_offsets":[30,33]},)"
    R"("f4":{"dtype":"F4","shape":[2],"data_offsets":[33,34]},)"
    R"("scalar":{"dtype":"I64","shape":[],"data_offsets":[34,42]},)"
    R"("empty":{"dtype":"U8","shape":[0,5],"data_offsets":[42,42]}})";

std::string valid_file() { return safetensors_bytes(kValidHeader, std::string(42, '\x01')); }

}  // namespace

TEST_CASE("a valid file: dtypes incl. F8/BOOL/F4, 0-d and empty tensors, __metadata__") {
  auto r = parse(valid_file());
  REQUIRE_MESSAGE(r.ok(), message_of(r));
  const auto& f = *r;
  CHECK(f.header_size == std::string(kValidHeader).size());
  CHECK(f.data_offset == 8 + f.header_size);
  REQUIRE(f.metadata.size() == 2);
  CHECK(f.metadata[0] == std::pair<std::string, std::string>{"format", "pt"});
  REQUIRE(f.tensors.size() == 7);
  CHECK(f.tensors[0].name == "w.f32");  // sorted by offset
  CHECK(f.tensors[1].name == "w.bf16");
  const auto* f8 = f.find_tensor("w.f8");
  REQUIRE(f8);
  CHECK(f8->dtype == "F8_E4M3");
  CHECK(f8->shape == std::vector<uint64_t>{2, 3});
  CHECK(f8->size() == 6);
  CHECK(f.find_tensor("scalar")->element_count() == 1);
  CHECK(f.find_tensor("empty")->element_count() == 0);
  CHECK(safetensors_dtype("BF16")->ggml == GgmlType::BF16);
  CHECK(!safetensors_dtype("F8_E5M2")->ggml);
  CHECK(safetensors_dtype("F6_E3M2")->bits == 6);
  CHECK(!safetensors_dtype("Q4_0"));
}

TEST_CASE("header length: over the 100 MB limit, past the end, truncated files") {
  mstest::Bytes big;
  big.u64(100'000'001).raw("{}");
  CHECK(message_of(parse(big.b)).find("100,000,000") != std::string::npos);
  mstest::Bytes past;
  past.u64(1000).raw("{}");
  CHECK(message_of(parse(past.b)).find("truncated") != std::string::npos);
  CHECK(!parse("abc").ok());
  std::string s = valid_file();
  for (size_t n = 0; n < s.size(); ++n) {
    auto r = parse(s.substr(0, n));
    REQUIRE_MESSAGE(!r.ok(), "prefix " << n << " accepted");
    CHECK(r.error().message.rfind("m.safetensors: ", 0) == 0);
  }
  // Short data after a complete header.
  CHECK(message_of(parse(safetensors_bytes(one("F32", "[4]", 0, 16), std::string(8, 0))))
            .find("truncated") != std::string::npos);
}

TEST_CASE("tensors must tile the data section: no overlap, gap or trailing bytes") {
  std::string overlap = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                        R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})";
  CHECK(message_of(parse(safetensors_bytes(overlap, std::string(6, 0)))).find("overlaps") !=
        std::string::npos);
  std::string gap = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                    R"("b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}})";
  CHECK(message_of(parse(safetensors_bytes(gap, std::string(10, 0)))).find("gap") !=
        std::string::npos);
  CHECK(message_of(parse(safetensors_bytes(one("U8", "[4]", 2, 6), std::string(6, 0))))
            .find("gap") != std::string::npos);
  CHECK(message_of(parse(safetensors_bytes(one("U8", "[4]", 0, 4), std::string(9, 0))))
            .find("not described") != std::string::npos);
}

TEST_CASE("tensor entries: sizes, dtypes, shapes and offsets are checked") {
  auto err = [](const std::string& header, size_t data) {
    return message_of(parse(safetensors_bytes(header, std::string(data, 0))));
  };
  CHECK(err(one("F32", "[4]", 0, 12), 12).find("needs 16") != std::string::npos);
  auto unk = parse(safetensors_bytes(one("Q4_0", "[4]", 0, 4), std::string(4, 0)));
  REQUIRE(!unk.ok());
  CHECK(unk.error().code == ErrorCode::unsupported);
  CHECK(err(one("F32", "[-1]", 0, 4), 4).find("non-negative") != std::string::npos);
  CHECK(err(one("F32", "[1.5]", 0, 4), 4).find("non-negative") != std::string::npos);
  CHECK(err(one("F32", "[4294967296,4294967296,4294967296]", 0, 4), 4).find("overflow") !=
        std::string::npos);
  CHECK(err(one("F64", "[2305843009213693952]", 0, 4), 4).find("overflow") != std::string::npos);
  CHECK(err(one("F32", "[1]", 8, 4), 4).find("begin > end") != std::string::npos);
  CHECK(err(one("F4", "[3]", 0, 2), 2).find("whole bytes") != std::string::npos);
  CHECK(err(R"({"t":{"dtype":"U8","shape":[1]}})", 1).find("data_offsets") != std::string::npos);
  CHECK(err(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", 1).find("data_offsets") !=
        std::string::npos);
  CHECK(err(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551616]}})", 1)
            .find("non-negative") != std::string::npos);
  CHECK(err(R"({"t":[1,2]})", 0).find("not an object") != std::string::npos);
  CHECK(err(R"([1,2])", 0).find("not a JSON object") != std::string::npos);
  CHECK(err(R"({"__metadata__":{"a":1}})", 0).find("not a string") != std::string::npos);
}

TEST_CASE("JSON hostility: invalid UTF-8 names, duplicates, nesting, syntax") {
  auto err = [](const std::string& header) { return message_of(parse(safetensors_bytes(header, ""))); };
  CHECK(err("{\"bad\xff\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}")
            .find("not valid UTF-8") != std::string::npos);
  CHECK(err(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
            R"("a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})")
            .find("duplicate key \"a\"") != std::string::npos);
  CHECK(err(R"({"a":{"dtype":"U8","dtype":"U8","shape":[0],"data_offsets":[0,0]}})")
            .find("duplicate") != std::string::npos);
  CHECK(err(std::string(5000, '[') + std::string(5000, ']')).find("deeper") != std::string::npos);
  CHECK(err("{\"a\":").find("not valid JSON") != std::string::npos);
  // Trailing spaces after the JSON (padding to 8-byte alignment) are allowed.
  CHECK(parse(safetensors_bytes(one("U8", "[2]", 0, 2) + "      ", "ab")).ok());
}

namespace {
void write_shard(const std::filesystem::path& p, const std::string& header, size_t data) {
  mstest::write_bytes(p.string(), safetensors_bytes(header, std::string(data, '\x02')));
}
const char* kIndex =
    R"({"metadata":{"total_size":24},"weight_map":{"a":"s-1.safetensors","b":"s-2.safetensors",)"
    R"("c":"s-2.safetensors"}})";
}  // namespace

TEST_CASE("sharded checkpoints: index, shards and config.json make one model") {
  mstest::TempDir dir;
  write_shard(dir / "s-1.safetensors", one("F32", "[2]", 0, 8, "a"), 8);
  write_shard(dir / "s-2.safetensors",
              R"({"b":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},)"
              R"("c":{"dtype":"BF16","shape":[4],"data_offsets":[8,16]}})",
              16);
  mstest::write_bytes((dir / "model.safetensors.index.json").string(), kIndex);
  mstest::write_bytes((dir / "config.json").string(),
                      R"({"architectures":["LlamaForCausalLM"],"model_type":"llama",)"
                      R"("hidden_size":64,"rms_norm_eps":1e-5,"tie_word_embeddings":false,"x":[1]})");
  auto m = read_model_info(dir.path());
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  CHECK(m->format == ModelFormat::safetensors);
  REQUIRE(m->files.size() == 2);
  CHECK(m->files[0].filename() == "s-1.safetensors");
  CHECK(m->tensors.size() == 3);
  const TensorInfo* c = m->find_tensor("c");
  REQUIRE(c);
  CHECK(c->file_index == 1);
  CHECK(c->offset == m->header_sizes[1] + 8);
  CHECK(c->ggml_type == GgmlType::BF16);
  CHECK(m->row_major_shape(*m->find_tensor("b")) == std::vector<uint64_t>{2, 2});
  CHECK(m->architecture() == "llama");
  CHECK(m->metadata.get_u32("config.hidden_size").value() == 64);
  CHECK(m->metadata.get_string("config.architecture").value() == "LlamaForCausalLM");
  CHECK(m->metadata.get_f32("config.rms_norm_eps").value() == doctest::Approx(1e-5f));
  CHECK(m->parameter_count() == 10);

  // The index file itself names the model too.
  CHECK(read_model_info(dir / "model.safetensors.index.json").ok());
  // A single shard read on its own is a plain safetensors file.
  auto single = read_model_info(dir / "s-2.safetensors");
  REQUIRE(single.ok());
  CHECK(single->tensors.size() == 2);
}

TEST_CASE("sharded checkpoints: the index and the shards must agree") {
  mstest::TempDir dir;
  write_shard(dir / "s-1.safetensors", one("F32", "[2]", 0, 8, "a"), 8);
  mstest::write_bytes((dir / "model.safetensors.index.json").string(), kIndex);
  auto missing = read_model_info(dir.path());
  REQUIRE(!missing.ok());
  CHECK(missing.error().code == ErrorCode::io);
  CHECK(missing.error().message.find("s-2.safetensors") != std::string::npos);

  write_shard(dir / "s-2.safetensors", one("F16", "[4]", 0, 8, "b"), 8);
  auto unlisted = read_model_info(dir.path());  // c listed but absent
  REQUIRE(!unlisted.ok());
  CHECK(unlisted.error().message.find("'c'") != std::string::npos);

  write_shard(dir / "s-2.safetensors",
              R"({"b":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},)"
              R"("c":{"dtype":"F16","shape":[4],"data_offsets":[8,16]},)"
              R"("d":{"dtype":"F16","shape":[4],"data_offsets":[16,24]}})",
              24);
  auto extra = read_model_info(dir.path());
  REQUIRE(!extra.ok());
  CHECK(extra.error().message.find("not listed") != std::string::npos);

  mstest::write_bytes((dir / "model.safetensors.index.json").string(),
                      R"({"weight_map":{"a":"../s-1.safetensors"}})");
  auto escape = read_model_info(dir.path());
  REQUIRE(!escape.ok());
  CHECK(escape.error().message.find("not a plain file name") != std::string::npos);
}

TEST_CASE("directories without a model, or with several and no index, are refused") {
  mstest::TempDir dir;
  auto none = read_model_info(dir.path());
  REQUIRE(!none.ok());
  CHECK(none.error().code == ErrorCode::invalid_argument);
  write_shard(dir / "a.safetensors", one("U8", "[1]", 0, 1), 1);
  CHECK(read_model_info(dir.path()).ok());
  write_shard(dir / "b.safetensors", one("U8", "[1]", 0, 1), 1);
  auto two = read_model_info(dir.path());
  REQUIRE(!two.ok());
  CHECK(two.error().message.find("2 .safetensors") != std::string::npos);
}
