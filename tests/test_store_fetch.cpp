// fetch with reuse, between real processes on 127.0.0.1: a re-released GGUF whose tensors all
// shifted, a four-shard safetensors release with one changed shard, a registered release that
// was corrupted on disk afterwards.
#include <doctest/doctest.h>

#include <fstream>

#include "corrupt.hpp"
#include "store_fixture.hpp"
#include "swarm_helpers.hpp"

using storetest::GgufShape;
using storetest::Packed;
using swarmtest::events;
using swarmtest::fetch_args;
using swarmtest::Peer;
using swarmtest::peer_arg;
using swarmtest::start_seed;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Registers a release the way a user would: by verifying it.
void register_by_verify(const fs::path& dir) {
  auto r = mstest::run_cli({"verify", dir.string(), "--trust", storetest::public_key()}, 120s);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

struct FetchOutcome {
  int64_t reused = 0;
  int64_t downloaded = 0;
  nlohmann::json reuse_event;
};

FetchOutcome fetch_from(const Packed& release, const fs::path& seed_log, const fs::path& out) {
  Peer seeder = start_seed({release.dir}, seed_log, {"--trust", storetest::public_key()});
  auto res = mstest::run_cli(fetch_args((release.dir / ".modelswarm" / "release.torrent").string(),
                                        storetest::public_key(), out, {"--peer", peer_arg(seeder.port)}),
                             240s);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  auto done = events(res.out, "done");
  REQUIRE(done.size() == 1);
  FetchOutcome o;
  o.reused = done[0].value("reused", int64_t{-1});
  o.downloaded = done[0].value("downloaded", int64_t{-1});
  auto reuse = events(res.out, "reused");
  REQUIRE(reuse.size() == 1);
  o.reuse_event = reuse[0];
  CHECK(seeder.proc.stop(SIGTERM) == 130);
  // The result is exactly the signed release.
  auto v = mstest::run_cli({"verify", (out / release.manifest.name).string(), "--trust", storetest::public_key()}, 120s);
  CHECK_MESSAGE(v.exit_code == 0, v.err);
  return o;
}

using mstest::flip_byte;

}  // namespace

TEST_CASE("v2 of a GGUF with a changed metadata string: with v1 registered, at most 2% is downloaded") {
  storetest::Home home;
  mstest::TempDir tmp;
  GgufShape shape;
  storetest::write_gguf(tmp / "pub1" / "tiny" / "model.gguf", "tiny", shape);
  storetest::write_gguf(tmp / "pub2" / "tiny" / "model.gguf", "tiny-llama-chat-v2 with a fixed chat template", shape);
  Packed v1 = storetest::pack(tmp / "pub1" / "tiny", "tiny", 1, 64 << 10);
  Packed v2 = storetest::pack(tmp / "pub2" / "tiny", "tiny", 2, 64 << 10);
  register_by_verify(v1.dir);

  FetchOutcome o = fetch_from(v2, tmp / "seed", tmp / "out");
  const uint64_t model = v2.manifest.files[0].size;
  const uint64_t header = v2.manifest.files[0].chunks[0].size;
  MESSAGE("model " << model << " bytes: reused " << o.reused << ", downloaded " << o.downloaded);
  CHECK(o.reused == static_cast<int64_t>(model - header));
  CHECK(o.downloaded > 0);
  CHECK(o.downloaded * 50 <= static_cast<int64_t>(model));
  CHECK(o.reuse_event["bytes_reused"] == o.reused);
  CHECK(o.reuse_event["chunks_rejected"] == 0);
  CHECK(o.reuse_event["expected_download"].get<int64_t>() <= o.downloaded);

  // The new release is registered too: list shows both.
  auto l = mstest::run_cli({"list", "--json"});
  REQUIRE(l.exit_code == 0);
  auto j = storetest::parse_json(l.out);
  CHECK(j["releases"].size() == 2);
}

TEST_CASE("four-shard safetensors release with one changed shard: about a quarter is downloaded") {
  storetest::Home home;
  mstest::TempDir tmp;
  storetest::write_sharded(tmp / "v1" / "sharded", 1);
  storetest::write_sharded(tmp / "other", 2);
  fs::create_directories(tmp / "v2");
  fs::copy(tmp / "v1" / "sharded", tmp / "v2" / "sharded", fs::copy_options::recursive);
  const std::string shard = "model-00003-of-00004.safetensors";
  fs::copy_file(tmp / "other" / shard, tmp / "v2" / "sharded" / shard, fs::copy_options::overwrite_existing);
  Packed v1 = storetest::pack(tmp / "v1" / "sharded", "sharded", 1, 64 << 10);
  Packed v2 = storetest::pack(tmp / "v2" / "sharded", "sharded", 2, 64 << 10);
  register_by_verify(v1.dir);

  FetchOutcome o = fetch_from(v2, tmp / "seed", tmp / "out");
  const double total = static_cast<double>(v2.manifest.total_size());
  MESSAGE("release " << total << " bytes: reused " << o.reused << ", downloaded " << o.downloaded);
  CHECK(o.downloaded / total > 0.15);
  CHECK(o.downloaded / total < 0.35);
  CHECK(o.reused / total > 0.65);
}

TEST_CASE("a registered release corrupted on disk afterwards: its bad chunk is not used, fetch completes") {
  storetest::Home home;
  mstest::TempDir tmp;
  GgufShape shape;
  storetest::write_gguf(tmp / "pub1" / "tiny" / "model.gguf", "tiny", shape);
  storetest::write_gguf(tmp / "pub2" / "tiny" / "model.gguf", "tiny v2", shape);
  Packed v1 = storetest::pack(tmp / "pub1" / "tiny", "tiny", 1, 64 << 10);
  Packed v2 = storetest::pack(tmp / "pub2" / "tiny", "tiny", 2, 64 << 10);
  register_by_verify(v1.dir);
  // Damage the biggest tensor of the registered copy after it was verified.
  const auto& f = v1.manifest.files[0];
  const modelswarm::Chunk* bad = &f.chunks[1];
  for (const auto& c : f.chunks)
    if (c.size > bad->size) bad = &c;
  flip_byte(v1.dir / "model.gguf", bad->offset + bad->size / 3);

  FetchOutcome o = fetch_from(v2, tmp / "seed", tmp / "out");
  const uint64_t model = v2.manifest.files[0].size;
  const uint64_t header = v2.manifest.files[0].chunks[0].size;
  CHECK(o.reused == static_cast<int64_t>(model - header - bad->size));
  CHECK(o.downloaded >= static_cast<int64_t>(bad->size));
  CHECK(o.reuse_event["chunks_rejected"] == 1);
  CHECK(o.reuse_event["message"].get<std::string>().find("model.gguf") != std::string::npos);
}

TEST_CASE("reuse works from a bare magnet link too, and --no-reuse downloads everything") {
  storetest::Home home;
  mstest::TempDir tmp;
  GgufShape shape;
  storetest::write_gguf(tmp / "pub1" / "tiny" / "model.gguf", "tiny", shape);
  storetest::write_gguf(tmp / "pub2" / "tiny" / "model.gguf", "tiny, second edition", shape);
  Packed v1 = storetest::pack(tmp / "pub1" / "tiny", "tiny", 1, 64 << 10);
  Packed v2 = storetest::pack(tmp / "pub2" / "tiny", "tiny", 2, 64 << 10);
  register_by_verify(v1.dir);
  Peer seeder = start_seed({v2.dir}, tmp / "seed", {"--trust", storetest::public_key()});
  const int64_t model = static_cast<int64_t>(v2.manifest.files[0].size);

  // How promptly libtorrent gets the hashes of the rechecked pieces (not after a peer timeout)
  // is timed by scripts/bench_reuse.sh ("from a magnet link"); here only the bound of run_cli.
  auto t0 = std::chrono::steady_clock::now();
  auto res = mstest::run_cli(fetch_args(v2.magnet, storetest::public_key(), tmp / "out", {"--peer", peer_arg(seeder.port)}), 240s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  auto done = events(res.out, "done");
  REQUIRE(done.size() == 1);
  MESSAGE("magnet: reused " << done[0]["reused"] << ", downloaded " << done[0]["downloaded"] << " in "
                            << seconds << " s");
  CHECK(done[0]["reused"].get<int64_t>() > model * 9 / 10);
  CHECK(done[0]["downloaded"].get<int64_t>() * 50 <= model);

  auto base = mstest::run_cli(fetch_args(v2.magnet, storetest::public_key(), tmp / "out2",
                                         {"--peer", peer_arg(seeder.port), "--no-reuse"}), 240s);
  INFO(base.err);
  REQUIRE(base.exit_code == 0);
  CHECK(events(base.out, "reused").empty());
  auto bdone = events(base.out, "done");
  REQUIRE(bdone.size() == 1);
  CHECK(bdone[0]["reused"] == 0);
  CHECK(bdone[0]["downloaded"].get<int64_t>() >= model);
  CHECK(seeder.proc.stop(SIGTERM) == 130);
}
