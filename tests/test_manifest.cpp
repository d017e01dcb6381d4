// The manifest's canonical form and its strict parser: every rule that keeps a signed manifest
// from describing something other than exactly the files of one directory.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>

#include "modelswarm/manifest.hpp"

using namespace modelswarm;
using nlohmann::json;

namespace {

Manifest sample() {
  Manifest m;
  m.name = "tiny";
  m.version = 3;
  m.created = "2026-01-02T03:04:05Z";
  m.publisher = {"0123456789ABCDEF", "RWQBAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKQ=="};
  ManifestFile gguf;
  gguf.path = "model.gguf";
  gguf.size = 300;
  gguf.sha256 = sha256("a");
  gguf.pieces_root = sha256("b");
  gguf.format = FileFormat::gguf;
  gguf.chunks = {Chunk{"(header)", 0, 100, sha256("h"), {}, {}},
                 Chunk{"tok.weight", 100, 150, sha256("t"), "F16", std::vector<uint64_t>{5, 15}},
                 Chunk{"out.weight", 250, 50, sha256("o"), "Q4_0", std::vector<uint64_t>{32, 1}}};
  ManifestFile other;
  other.path = "sub/readme.txt";
  other.size = 10;
  other.sha256 = sha256("r");
  other.pieces_root = sha256("r");
  other.chunks = {Chunk{"(file)", 0, 10, sha256("r"), {}, {}}};
  ManifestFile empty;
  empty.path = "z-empty";
  empty.chunks = {Chunk{"(file)", 0, 0, sha256(""), {}, {}}};
  m.files = {gguf, other, empty};
  return m;
}

// Parses `j` after applying `edit` to the canonical JSON of sample(); returns the error text.
std::string reject(const std::function<void(json&)>& edit) {
  json j = json::parse(serialize_manifest(sample()));
  edit(j);
  auto r = parse_manifest(j.dump(), "m.json");
  if (r.ok()) return "";
  CHECK(r.error().message.rfind("m.json: ", 0) == 0);
  return r.error().message;
}

}  // namespace

TEST_CASE("canonical serialization: sorted keys, stable bytes, exact round trip") {
  std::string a = serialize_manifest(sample());
  CHECK(a.back() == '\n');
  CHECK(a.find("\"chunks\"") < a.find("\"format\""));  // sorted keys
  auto m = parse_manifest(a);
  REQUIRE(m.ok());
  CHECK(serialize_manifest(*m) == a);
  CHECK(m->files[0].chunks[1].shape == std::vector<uint64_t>{5, 15});
  CHECK_FALSE(m->files[2].pieces_root.has_value());
  CHECK(m->total_size() == 310);
  CHECK(m->find_file("sub/readme.txt") != nullptr);
  CHECK(validate_manifest(sample()).ok());
}

TEST_CASE("structure: unknown, missing and mistyped fields are refused") {
  CHECK(reject([](json& j) { j["extra"] = 1; }).find("unknown key \"extra\"") != std::string::npos);
  CHECK(reject([](json& j) { j.erase("version"); }).find("missing \"version\"") != std::string::npos);
  CHECK(reject([](json& j) { j["version"] = -1; }).find("version") != std::string::npos);
  CHECK(reject([](json& j) { j["version"] = 1.5; }) != "");
  CHECK(reject([](json& j) { j["version"] = "3"; }) != "");
  CHECK(reject([](json& j) { j["files"][0]["size"] = "300"; }) != "");
  CHECK(reject([](json& j) { j["files"][0]["chunks"][0]["bogus"] = true; }).find("files[0].chunks[0]") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][0]["sha256"] = std::string(64, 'A'); }).find("hex") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][0]["sha256"] = "abc"; }) != "");
  CHECK(reject([](json& j) { j["files"][0]["format"] = "onnx"; }) != "");
  CHECK(reject([](json& j) { j["files"][0]["chunks"][1]["shape"] = json::array({1, -2}); }) != "");
  CHECK(reject([](json& j) { j["files"][0]["chunks"][1].erase("shape"); }).find("dtype and shape") != std::string::npos);
  CHECK(reject([](json& j) { j["publisher"]["key_id"] = "12"; }) != "");
  CHECK(reject([](json& j) { j["files"] = json::array(); }).find("at least one file") != std::string::npos);
  CHECK(reject([](json& j) { j["created"] = "yesterday"; }).find("created") != std::string::npos);
  CHECK(reject([](json& j) { j["expires"] = "2026-02-30T00:00:00Z"; }).find("expires") != std::string::npos);
  CHECK(reject([](json& j) { j["name"] = "../evil"; }) != "");
  auto r = parse_manifest(std::string("{\"format\":\"modelswarm.manifest/9\"}"));
  CHECK_FALSE(r.ok());
  auto fmt = reject([](json& j) { j["format"] = "modelswarm.manifest/2"; });
  CHECK(fmt.find("is not modelswarm.manifest/1") != std::string::npos);
  CHECK_FALSE(parse_manifest("not json").ok());
  CHECK_FALSE(parse_manifest(std::string(100000, '[')).ok());
  CHECK_FALSE(parse_manifest("[1,2]").ok());
}

TEST_CASE("paths: relative, no .., no absolute, no backslash, no reserved directory, unique, sorted") {
  for (std::string bad : std::vector<std::string>{"../x", "/etc/passwd", "a/../b", "a//b", "./a", "a/", "a\\b", "C:x", ".modelswarm/manifest.json",
                          std::string("a\x01" "b"), ""}) {
    INFO(bad);
    CHECK_FALSE(validate_release_path(bad).ok());
    CHECK(reject([&](json& j) { j["files"][1]["path"] = bad; }) != "");
  }
  for (std::string good : {"a", "a/b/c.gguf", ".hidden", "dir/.modelswarm", "weights-00001-of-00002.safetensors"})
    CHECK(validate_release_path(good).ok());
  CHECK(reject([](json& j) { j["files"][1]["path"] = "model.gguf"; }).find("sorted") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][2]["path"] = "sub/readme.txt/x"; }).find("both a file and a directory") != std::string::npos);
}

TEST_CASE("chunks cover every byte of their file exactly once, in order") {
  CHECK(reject([](json& j) { j["files"][0]["chunks"][1]["offset"] = 101; }).find("contiguously") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][0]["chunks"][1]["offset"] = 99; }) != "");
  CHECK(reject([](json& j) { j["files"][0]["chunks"][2]["size"] = 49; }).find("cover 299 of 300") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][0]["chunks"][2]["size"] = 51; }).find("past the end") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][0]["chunks"][2]["name"] = "tok.weight"; }).find("repeated") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][0]["chunks"][0]["name"] = "hdr"; }).find("(header)") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][1]["chunks"].push_back(j["files"][1]["chunks"][0]); }) != "");
  CHECK(reject([](json& j) { j["files"][0]["chunks"] = json::array(); }) != "");
  CHECK(reject([](json& j) { j["files"][2].erase("chunks"); }) != "");
  CHECK(reject([](json& j) { j["files"][0].erase("pieces_root"); }).find("pieces_root") != std::string::npos);
  CHECK(reject([](json& j) { j["files"][2]["pieces_root"] = j["files"][0]["sha256"]; }).find("pieces_root") != std::string::npos);
}

TEST_CASE("UTC times and release names") {
  CHECK(parse_utc_time("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_utc_time("2026-01-02T03:04:05Z") == 1767323045);
  CHECK(parse_utc_time("2024-02-29") == 1709164800);
  CHECK_FALSE(parse_utc_time("2023-02-29"));
  CHECK_FALSE(parse_utc_time("2026-13-01"));
  CHECK_FALSE(parse_utc_time("2026-01-01T24:00:00Z"));
  CHECK_FALSE(parse_utc_time("2026-01-01T00:00:00+01:00"));
  CHECK(format_utc_time(1767323045) == "2026-01-02T03:04:05Z");
  for (int64_t t : {0ll, 951782400ll, 4102444799ll}) CHECK(parse_utc_time(format_utc_time(t)) == t);
  CHECK(validate_release_name("Qwen2-0.5B_Q4+fix.1").ok());
  for (std::string bad : std::vector<std::string>{"", ".x", "-x", "a/b", "a b", std::string(129, 'a'), "é"}) CHECK_FALSE(validate_release_name(bad).ok());
}

TEST_CASE("manifests/example.manifest.json parses, is canonical, and the schema is JSON naming every field") {
  std::string dir = std::string(MODELSWARM_SOURCE_DIR) + "/manifests/";
  std::ifstream ex(dir + "example.manifest.json"), sc(dir + "manifest.schema.json");
  std::string text((std::istreambuf_iterator<char>(ex)), std::istreambuf_iterator<char>());
  auto m = parse_manifest(text, "example.manifest.json");
  REQUIRE(m.ok());
  CHECK(serialize_manifest(*m) == text);
  json schema = json::parse(sc);
  CHECK(schema["properties"]["format"]["const"] == std::string(kManifestFormat));
  // Named, not a temporary: items() of a temporary dangles in a range-for (ASan caught it).
  const json doc = json::parse(text);
  for (const auto& [k, v] : doc.items()) CHECK(schema["properties"].contains(k));
  for (const auto& [k, v] : doc["files"][1].items()) CHECK(schema["$defs"]["file"]["properties"].contains(k));
  for (const auto& [k, v] : doc["files"][1]["chunks"][1].items())
    CHECK(schema["$defs"]["chunk"]["properties"].contains(k));
}
