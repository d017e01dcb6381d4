// `modelswarm diff` and the library's diff_manifests / bytes_to_download: a GGUF re-released
// with a different metadata string, a four-shard safetensors release with one changed shard.
#include <doctest/doctest.h>

#include "modelswarm/diff.hpp"
#include "modelswarm/store.hpp"
#include "store_fixture.hpp"

using namespace storetest;
using modelswarm::ByteRange;

namespace {

uint64_t tensor_count(const modelswarm::Manifest& m) {
  uint64_t n = 0;
  for (const auto& f : m.files)
    for (const auto& c : f.chunks) n += c.dtype.has_value();
  return n;
}

}  // namespace

TEST_CASE("bytes_to_download counts whole pieces not covered by present ranges") {
  modelswarm::Manifest m;
  modelswarm::ManifestFile f;
  f.path = "a";
  f.size = 100;
  m.files.push_back(f);
  f.path = "b";
  f.size = 30;
  m.files.push_back(f);
  using V = std::vector<std::vector<ByteRange>>;
  CHECK(modelswarm::bytes_to_download(m, V{}, 16) == 130);
  // File a: pieces [0,16) [16,32) ... [96,100). Present [0,40) covers pieces 0,1 only.
  CHECK(modelswarm::bytes_to_download(m, V{{{0, 40}}, {}}, 16) == 130 - 32);
  // Adjacent ranges merge; the short last piece counts with its real size.
  CHECK(modelswarm::bytes_to_download(m, V{{{0, 10}, {10, 90}}, {{0, 30}}}, 16) == 0);
  CHECK(modelswarm::bytes_to_download(m, V{{{0, 50}, {60, 40}}, {{0, 29}}}, 16) == 16 + 14);
  // Ranges given out of order.
  CHECK(modelswarm::bytes_to_download(m, V{{{60, 40}, {0, 60}}, {}}, 16) == 30);
}

TEST_CASE("diff of a GGUF re-released with a longer metadata string: every tensor moved") {
  GgufPair p;
  auto r = mstest::run_cli({"diff", p.v1.dir.string(), p.v2.dir.string(), "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json j = parse_json(r.out);
  uint64_t tensors = tensor_count(p.v2.manifest);
  REQUIRE(tensors > 10);
  CHECK(j["counts"]["moved"] == tensors);
  CHECK(j["counts"]["changed"] == 1);  // the header
  CHECK(j["counts"]["added"] == 0);
  CHECK(j["counts"]["removed"] == 0);
  CHECK(j["unchanged"] == 0);
  uint64_t model = p.v2.manifest.files[0].size;
  uint64_t header = p.v2.manifest.files[0].chunks[0].size;
  CHECK(j["b"]["bytes"] == model);
  CHECK(j["transfer_bytes"] == header);
  CHECK(j["reusable_bytes"] == model - header);
  CHECK(j["piece_size"] == 64 << 10);
  uint64_t pieces = j["transfer_bytes_pieces"].get<uint64_t>();
  CHECK(pieces >= header);
  CHECK(pieces <= header + 2 * (64 << 10));
  CHECK(pieces * 50 <= model);  // under 2%

  for (const auto& c : j["changes"]) {
    if (c["kind"] != "moved") continue;
    CHECK(c["a"]["path"] == "model.gguf");
    CHECK(c["a"]["offset"] != c["b"]["offset"]);
  }

  // Human output: a table and the totals.
  auto h = mstest::run_cli({"diff", p.v1.dir.string(), p.v2.dir.string()});
  REQUIRE(h.exit_code == 0);
  CHECK(h.out.find("moved") != std::string::npos);
  CHECK(h.out.find("blk.0.attn_q.weight") != std::string::npos);
  CHECK(h.out.find("fetch of B given A") != std::string::npos);
  auto s = mstest::run_cli({"diff", p.v1.dir.string(), p.v2.dir.string(), "--summary"});
  REQUIRE(s.exit_code == 0);
  CHECK(s.out.find("blk.0.attn_q.weight") == std::string::npos);

  // A release against itself: nothing to transfer, nothing listed.
  auto same = mstest::run_cli({"diff", p.v1.dir.string(), (p.v1.dir / ".modelswarm" / "manifest.json").string(),
                               "--json", "--piece-size", "16K"});
  REQUIRE(same.exit_code == 0);
  json js = parse_json(same.out);
  CHECK(js["changes"].empty());
  CHECK(js["transfer_bytes"] == 0);
  CHECK(js["transfer_bytes_pieces"] == 0);
  CHECK(js["piece_size"] == 16384);
  CHECK(js["unchanged"] == js["chunks_b"]);
}

TEST_CASE("diff of a four-shard safetensors release with one changed shard: a quarter moves") {
  mstest::TempDir tmp;
  write_sharded(tmp / "v1", 1);
  write_sharded(tmp / "other", 2);
  fs::copy(tmp / "v1", tmp / "v2", fs::copy_options::recursive);
  const std::string shard = "model-00003-of-00004.safetensors";
  fs::copy_file(tmp / "other" / shard, tmp / "v2" / shard, fs::copy_options::overwrite_existing);
  Packed v1 = pack(tmp / "v1", "sharded", 1, 64 << 10);
  Packed v2 = pack(tmp / "v2", "sharded", 2, 64 << 10);

  auto r = mstest::run_cli({"diff", v1.dir.string(), v2.dir.string(), "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json j = parse_json(r.out);
  uint64_t shard_tensors = 0, shard_bytes = 0;
  for (const auto& f : v2.manifest.files)
    if (f.path == shard) {
      shard_bytes = f.size;
      for (const auto& c : f.chunks) shard_tensors += c.dtype.has_value();
    }
  REQUIRE(shard_tensors > 0);
  CHECK(j["counts"]["changed"] == shard_tensors);
  CHECK(j["counts"]["moved"] == 0);
  CHECK(j["counts"]["added"] == 0);
  CHECK(j["counts"]["removed"] == 0);
  for (const auto& c : j["changes"]) CHECK(c["b"]["path"] == shard);
  double share = j["transfer_bytes"].get<double>() / j["b"]["bytes"].get<double>();
  MESSAGE("changed shard share of the release: " << share);
  CHECK(share > 0.15);
  CHECK(share < 0.35);
  // The shard's header chunk is identical (same names, shapes, dtypes): only tensor bytes move.
  CHECK(j["transfer_bytes"].get<uint64_t>() < shard_bytes);
  CHECK(j["transfer_bytes_pieces"].get<uint64_t>() <= shard_bytes);
}

TEST_CASE("diff: a tensor that moved to another shard is 'moved'; added and removed tensors") {
  modelswarm::Manifest a, b;
  auto chunk = [](std::string name, uint64_t off, uint64_t size, uint8_t fill) {
    modelswarm::Chunk c;
    c.name = std::move(name);
    c.offset = off;
    c.size = size;
    c.sha256.fill(fill);
    c.dtype = "F16";
    return c;
  };
  modelswarm::ManifestFile f1, f2;
  f1.path = "s1";
  f1.chunks = {chunk("x", 0, 10, 1), chunk("y", 10, 10, 2)};
  f2.path = "s2";
  f2.chunks = {chunk("z", 0, 10, 3)};
  a.files = {f1, f2};
  f1.chunks = {chunk("x", 0, 10, 1)};
  f2.chunks = {chunk("y", 0, 10, 2), chunk("w", 10, 10, 4)};
  b.files = {f1, f2};
  auto d = modelswarm::diff_manifests(a, b);
  using K = modelswarm::ChunkChange::Kind;
  std::map<std::string, K> kinds;
  for (const auto& c : d.changes) kinds[c.name] = c.kind;
  CHECK(d.unchanged == 1);
  CHECK(kinds.size() == 3);
  CHECK(kinds["y"] == K::moved);
  CHECK(kinds["w"] == K::added);
  CHECK(kinds["z"] == K::removed);
  CHECK(d.transfer_bytes == 10);
}

TEST_CASE("diff: bad arguments are clear one-line errors") {
  mstest::TempDir tmp;
  auto r = mstest::run_cli({"diff", (tmp / "nope").string(), (tmp / "nope2").string()});
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("nope") != std::string::npos);
  fs::create_directories(tmp / "empty");
  r = mstest::run_cli({"diff", (tmp / "empty").string(), (tmp / "empty").string(), "--json"});
  CHECK(r.exit_code == 6);
  CHECK(parse_json(r.out)["exit_code"] == 6);
  mstest::write_file((tmp / "bad.json").string(), "{\"format\": 1}");
  r = mstest::run_cli({"diff", (tmp / "bad.json").string(), (tmp / "bad.json").string()});
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("bad.json") != std::string::npos);
  r = mstest::run_cli({"diff", (tmp / "bad.json").string(), (tmp / "bad.json").string(), "--piece-size", "3"});
  CHECK(r.exit_code == 2);
}
