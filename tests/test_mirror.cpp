// `modelswarm mirror` against real seed processes on 127.0.0.1: fetch what is missing, do
// nothing (fast) when nothing is new, swap in a newer tracked version atomically, and report
// per-release failures with the documented exit codes without stopping the other releases.
#include <doctest/doctest.h>

#include "modelswarm/registry.hpp"
#include "swarm_helpers.hpp"

using namespace swarmtest;

namespace {

std::vector<std::string> mirror_args(const fs::path& file) {
  std::vector<std::string> a{"mirror", file.string()};
  for (auto& f : lan_flags()) a.push_back(f);
  return a;
}

json release_event(const std::string& out, size_t i) {
  auto ev = events(out, "release");
  REQUIRE(ev.size() > i);
  return ev[i];
}

bool verifies(const fs::path& dir, const std::string& key) {
  auto r = mstest::run_cli({"verify", dir.string(), "--trust", key, "--json"}, 60s);
  return r.exit_code == 0;
}

}  // namespace

TEST_CASE("mirror fetches what is missing, then is a fast no-op, then swaps in a tracked new version") {
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair key = modelswarm::generate_key_pair();
  Release v1 = pack_version(tmp / "pub1", "mirrored", 1, 11, key);
  Release v2 = pack_version(tmp / "pub2", "mirrored", 2, 12, key);
  Release other = make_release(tmp / "pub3", {.name = "other-model", .size = scaled(1 << 20)}, &key);
  Peer seeder = start_seed({v1.dir, v2.dir, other.dir}, tmp / "seed", {"--trust", v1.public_key});

  fs::path track = tmp / "mirrored.latest";
  fs::path dest = tmp / "models";
  fs::path file = tmp / "mirrors.json";
  mstest::write_file(file.string(), json{
      {"format", "modelswarm.mirror/1"},
      {"peers", {peer_arg(seeder.port)}},
      {"releases", {
          {{"source", v1.torrent.string()}, {"trust", v1.public_key}, {"dest", "models"},
           {"track", "mirrored.latest"}},
          {{"source", other.magnet}, {"trust", json::array({other.public_key})}, {"dest", dest.string()}},
      }}}.dump(2));

  auto first = mstest::run_cli(mirror_args(file), 180s);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(release_event(first.out, 0)["status"] == "fetched");
  CHECK(release_event(first.out, 0)["version"] == 1);
  CHECK(release_event(first.out, 1)["status"] == "fetched");
  CHECK(verifies(dest / "mirrored", key.public_key.to_base64()));
  CHECK(verifies(dest / "other-model", key.public_key.to_base64()));
  auto summary = events(first.out, "summary");
  REQUIRE(summary.size() == 1);
  CHECK(summary[0]["fetched"] == 2);

  // Nothing new: no data is read or downloaded, and both are reported up to date.
  auto second = mstest::run_cli(mirror_args(file), 60s);
  INFO(second.err);
  CHECK(second.exit_code == 0);
  CHECK(release_event(second.out, 0)["status"] == "up-to-date");
  CHECK(release_event(second.out, 1)["status"] == "up-to-date");
  CHECK(release_event(second.out, 0)["bytes_downloaded"] == 0);
  CHECK(release_event(second.out, 0)["seconds"].get<double>() < 5.0);

  // The publisher points the tracked file at version 2: it replaces version 1 in place.
  fs::copy_file(v2.torrent, track);
  auto third = mstest::run_cli(mirror_args(file), 180s);
  INFO(third.err);
  CHECK(third.exit_code == 0);
  CHECK(release_event(third.out, 0)["status"] == "updated");
  CHECK(release_event(third.out, 0)["version"] == 2);
  CHECK(same_bytes(v2.dir / "model.bin", dest / "mirrored" / "model.bin"));
  CHECK(verifies(dest / "mirrored", key.public_key.to_base64()));
  CHECK(!fs::exists(dest / ".modelswarm-mirror" / "mirrored"));  // the old version is gone

  // The registry knows where each release lives now, and only the current version of it.
  auto reg = modelswarm::list_registered();
  REQUIRE(reg.ok());
  int at_mirrored = 0;
  for (const auto& e : *reg)
    if (e.dir == dest / "mirrored") {
      ++at_mirrored;
      CHECK(e.version == 2);
    }
  CHECK(at_mirrored == 1);

  // Pointing back at version 1 is a rollback: refused (exit 3), version 2 stays in place.
  fs::copy_file(v1.torrent, track, fs::copy_options::overwrite_existing);
  auto back = mstest::run_cli(mirror_args(file), 120s);
  CHECK(back.exit_code == 3);
  CHECK(release_event(back.out, 0)["status"] == "failed");
  CHECK(release_event(back.out, 1)["status"] == "up-to-date");
  CHECK(same_bytes(v2.dir / "model.bin", dest / "mirrored" / "model.bin"));
  CHECK(seeder.proc.stop(SIGTERM) == 130);
}

TEST_CASE("mirror: a release with an untrusted key fails alone; bad mirror files are refused") {
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair key = modelswarm::generate_key_pair();
  Release good = pack_version(tmp / "pub", "good", 1, 21, key);
  Release bad = pack_version(tmp / "pub", "bad", 1, 22, key);
  Peer seeder = start_seed({good.dir, bad.dir}, tmp / "seed", {"--trust", good.public_key});
  std::string stranger = modelswarm::generate_key_pair().public_key.to_base64();
  fs::path file = tmp / "m.json";
  mstest::write_file(file.string(), json{
      {"format", "modelswarm.mirror/1"},
      {"peers", {peer_arg(seeder.port)}},
      {"releases", {
          {{"source", bad.magnet}, {"trust", stranger}, {"dest", "out"}},
          {{"source", good.magnet}, {"trust", good.public_key}, {"dest", "out"}},
      }}}.dump());
  auto r = mstest::run_cli(mirror_args(file), 120s);
  CHECK(r.exit_code == 3);
  CHECK(release_event(r.out, 0)["status"] == "failed");
  CHECK(release_event(r.out, 0)["error"]["code"] == "trust");
  CHECK(release_event(r.out, 1)["status"] == "fetched");
  CHECK(!fs::exists(tmp / "out" / "bad"));
  CHECK(verifies(tmp / "out" / "good", good.public_key));
  CHECK(seeder.proc.stop(SIGTERM) == 130);

  auto check_refused = [&](const std::string& text, const std::string& needle) {
    mstest::write_file(file.string(), text);
    auto res = mstest::run_cli({"mirror", file.string(), "--json"}, 30s);
    INFO(text);
    CHECK(res.exit_code == 7);
    CHECK(res.err.find(file.string()) != std::string::npos);
    CHECK(res.err.find(needle) != std::string::npos);
  };
  check_refused("{", "not valid JSON");
  check_refused(R"({"format":"modelswarm.mirror/1","releases":[{"source":"x.torrent","dest":"d"}]})", "trust");
  check_refused(R"({"format":"modelswarm.mirror/1","releases":[],"extra":1})", "unknown key 'extra'");
  check_refused(R"({"format":"other","releases":[]})", "format");
  CHECK(mstest::run_cli({"mirror", (tmp / "missing.json").string()}).exit_code == 6);
}

TEST_CASE("mirror --seed reads its file again on SIGHUP: a release added meanwhile is fetched and seeded") {
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair key = modelswarm::generate_key_pair();
  Release a = pack_version(tmp / "pub1", "first", 1, 21, key);
  Release b = pack_version(tmp / "pub2", "second", 1, 22, key);
  Peer seeder = start_seed({a.dir, b.dir}, tmp / "seed", {"--trust", a.public_key});
  fs::path file = tmp / "mirrors.json";
  auto write_file = [&](bool both) {
    json releases = json::array({{{"source", a.magnet}, {"trust", a.public_key}, {"dest", "models"}}});
    if (both) releases.push_back({{"source", b.magnet}, {"trust", b.public_key}, {"dest", "models"}});
    mstest::write_file(file.string(), json{{"format", "modelswarm.mirror/1"}, {"peers", {peer_arg(seeder.port)}},
                                           {"releases", releases}}.dump());
  };
  write_file(false);
  auto args = mirror_args(file);
  args.push_back("--seed");
  mstest::Background mirror(mstest::cli_argv(args), (tmp / "mirror").string());
  REQUIRE_MESSAGE(mirror.wait_for_output("\"summary\"", 120s), mirror.err());
  write_file(true);
  REQUIRE(kill(mirror.pid(), SIGHUP) == 0);
  bool second = false;
  for (auto deadline = std::chrono::steady_clock::now() + 120s; !second && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(200ms))
    for (const auto& e : events(mirror.out(), "release"))
      second = second || (e["name"] == "second" && e["status"] == "fetched");
  INFO(mirror.err());
  CHECK(second);
  CHECK(mirror.running());
  CHECK(events(mirror.out(), "summary").size() == 2);
  CHECK(mirror.stop(SIGTERM) == 130);
  CHECK(verifies(tmp / "models" / "second", key.public_key.to_base64()));
}
