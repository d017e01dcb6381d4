// seed and fetch between real processes on 127.0.0.1: the happy paths, and every refusal that
// must happen before any model data is downloaded.
#include <doctest/doctest.h>

#include "modelswarm/registry.hpp"
#include "swarm_helpers.hpp"

using namespace swarmtest;

namespace {

void check_verified_copy(const Release& r, const fs::path& got) {
  CHECK(fs::is_directory(got));
  CHECK(same_bytes(r.dir / "model.bin", got / "model.bin"));
  CHECK(same_bytes(r.dir / "sub" / "tokenizer.bin", got / "sub" / "tokenizer.bin"));
  modelswarm::VerifyOptions vo;
  vo.trust.trusted_keys.push_back(*modelswarm::parse_public_key(r.public_key));
  vo.record = false;
  auto rep = modelswarm::verify_release(got, vo);
  REQUIRE_MESSAGE(rep.ok(), (rep.ok() ? "" : rep.error().message));
  CHECK(rep->ok());
}

// The port a tests/tools/evil_seed process listens on, once it says so.
int listening_port(mstest::Background& seed) {
  REQUIRE_MESSAGE(seed.wait_for_output("listening", 20s), seed.err());
  return events(seed.out(), "listening").at(0)["port"];
}

}  // namespace

TEST_CASE("fetch from one seeder process: verified release in place, registered, staging gone") {
  Home home;
  mstest::TempDir tmp;
  Release r = make_release(tmp / "pub", {.name = "tiny-model", .size = scaled(8 << 20)});
  Peer seeder = start_seed({r.dir}, tmp / "seed");
  fs::path out = tmp / "out";

  auto res = mstest::run_cli(fetch_args(r.torrent.string(), r.public_key, out, {"--peer", peer_arg(seeder.port)}), 120s);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  check_verified_copy(r, out / r.name);
  CHECK(fs::exists(out / r.name / ".modelswarm" / "release.torrent"));
  CHECK(!fs::exists(out / ".modelswarm-partial"));
  auto done = events(res.out, "done");
  REQUIRE(done.size() == 1);
  CHECK(done[0]["dir"] == (out / r.name).string());
  // Scripts can follow each peer and each verified piece.
  auto peers = events(res.out, "peer");
  REQUIRE(!peers.empty());
  CHECK(peers[0]["endpoint"] == peer_arg(seeder.port));
  CHECK(peers[0]["message"] == "connected");
  auto pieces = events(res.out, "piece");
  CHECK(!pieces.empty());
  for (const auto& p : pieces) CHECK(p["piece"].get<int>() >= 0);

  auto reg = modelswarm::list_registered();
  REQUIRE(reg.ok());
  REQUIRE(reg->size() == 1);
  CHECK((*reg)[0].name == r.name);
  CHECK((*reg)[0].version == 1);
  CHECK(fs::equivalent((*reg)[0].dir, out / r.name));

  // The CLI's own verify agrees; and the fetched copy can be seeded in turn.
  Peer second = start_seed({out / r.name}, tmp / "seed2", {"--trust", r.public_key});
  auto res2 = mstest::run_cli(fetch_args(r.magnet, r.public_key, tmp / "out2", {"--peer", peer_arg(second.port)}), 120s);
  INFO(res2.err);
  CHECK(res2.exit_code == 0);
  check_verified_copy(r, tmp / "out2" / r.name);
  CHECK(seeder.proc.stop(SIGTERM) == 130);
  CHECK(second.proc.stop(SIGINT) == 130);
  CHECK(!events(seeder.proc.out(), "stopped").empty());
}

TEST_CASE("the lan profile with uTP as well as TCP completes on loopback") {
  // Regression: 100 ms libtorrent ticks (lan profile) stalled uTP transfers for good, unless
  // frequent status calls (--status-interval 0.2, as lan_flags() has) kept waking libtorrent:
  // this fetch keeps the default interval.
  Home home;
  mstest::TempDir tmp;
  Release r = make_release(tmp / "pub", {.name = "utp-model", .size = scaled(8 << 20), .piece_size = 4 << 20});
  Peer seeder = start_seed({r.dir}, tmp / "seed", {"--transport", "both"});
  auto res = mstest::run_cli({"fetch", r.torrent.string(), "-o", (tmp / "out").string(), "--trust",
                              r.public_key, "--json", "--profile", "lan", "--listen", "127.0.0.1:0",
                              "--no-lsd", "--no-dht", "--peer", peer_arg(seeder.port),
                              "--transport", "both"},
                             30s);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  check_verified_copy(r, tmp / "out" / r.name);
}

TEST_CASE("magnet-only fetch gets the metadata from peers") {
  Home home;
  mstest::TempDir tmp;
  Release r = make_release(tmp / "pub", {.name = "magnet-model", .size = scaled(4 << 20)});
  Peer seeder = start_seed({r.dir}, tmp / "seed");
  REQUIRE(r.magnet.rfind("magnet:?", 0) == 0);
  auto res = mstest::run_cli(fetch_args(r.magnet, r.public_key, tmp / "out", {"--peer", peer_arg(seeder.port)}), 120s);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  CHECK(!events(res.out, "metadata").empty());
  check_verified_copy(r, tmp / "out" / r.name);
}

TEST_CASE("one seed process serves several releases") {
  Home home;
  mstest::TempDir tmp;
  Release a = make_release(tmp / "pub", {.name = "model-a", .size = scaled(2 << 20), .seed = 7});
  Release b = make_release(tmp / "pub", {.name = "model-b", .size = scaled(2 << 20), .seed = 8});
  Peer seeder = start_seed({a.dir, b.dir}, tmp / "seed");
  for (const Release* r : {&a, &b}) {
    auto res = mstest::run_cli(fetch_args(r->magnet, r->public_key, tmp / "out", {"--peer", peer_arg(seeder.port)}), 120s);
    INFO(res.err);
    CHECK(res.exit_code == 0);
    check_verified_copy(*r, tmp / "out" / r->name);
  }
}

TEST_CASE("--libtorrent sets a libtorrent setting by name; a bad one is refused before anything listens") {
  Home home;
  mstest::TempDir tmp;
  Release r = make_release(tmp / "pub", {.name = "lt-model", .size = scaled(2 << 20)});
  // Applied after every other option: the listen address given through it wins over --listen
  // (the listening event reports the session's port), and a leecher fetches from it there.
  const int port = free_port();
  Peer seeder = start_seed({r.dir}, tmp / "seed",
                           {"--libtorrent", "listen_interfaces=127.0.0.1:" + std::to_string(port),
                            "--libtorrent", "send_socket_buffer_size=65536"});
  CHECK(seeder.port == port);
  auto res = mstest::run_cli(fetch_args(r.torrent.string(), r.public_key, tmp / "out",
                                        {"--peer", peer_arg(port), "--libtorrent", "request_queue_time=1"}),
                             60s);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  check_verified_copy(r, tmp / "out" / r.name);
  CHECK(seeder.proc.stop(SIGTERM) == 130);

  for (auto [item, why] : {std::pair{"no_such_setting=1", "no setting of that name"},
                           std::pair{"connections_limit=many", "expected an integer"},
                           std::pair{"enable_dht=maybe", "expected true or false"},
                           std::pair{"enable_dht", "expected NAME=VALUE"}}) {
    CAPTURE(item);
    auto bad = mstest::run_cli({"seed", r.dir.string(), "--json", "--listen", "127.0.0.1:0", "--no-dht",
                                "--no-lsd", "--libtorrent", item}, 30s);
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find(item) != std::string::npos);
    CHECK(bad.err.find(why) != std::string::npos);
    CHECK(bad.out.find("\"listening\"") == std::string::npos);
  }
}

TEST_CASE("seed refuses a release whose files do not match, and bad flags") {
  Home home;
  mstest::TempDir tmp;
  Release r = make_release(tmp / "pub", {.name = "short-model", .size = scaled(2 << 20)});
  fs::resize_file(r.dir / "model.bin", fs::file_size(r.dir / "model.bin") - 1);
  auto res = mstest::run_cli({"seed", r.dir.string(), "--json", "--listen", "127.0.0.1:0", "--no-lsd", "--no-dht"}, 30s);
  CHECK(res.exit_code == 4);
  CHECK(res.err.find("model.bin") != std::string::npos);

  fs::resize_file(r.dir / "model.bin", fs::file_size(r.dir / "model.bin") + 1);
  std::string stranger = modelswarm::generate_key_pair().public_key.to_base64();
  auto wrong = mstest::run_cli({"seed", r.dir.string(), "--trust", stranger, "--listen", "127.0.0.1:0",
                                "--no-dht", "--no-lsd"}, 30s);
  CHECK(wrong.exit_code == 3);
  CHECK(mstest::run_cli({"seed", r.dir.string(), "--upload-limit", "fast"}).exit_code == 2);
  CHECK(mstest::run_cli({"fetch", "x.torrent"}).exit_code == 2);  // -o is required
  CHECK(mstest::run_cli({"fetch", (tmp / "missing.torrent").string(), "-o", (tmp / "o").string(),
                         "--trust", r.public_key, "--listen", "127.0.0.1:0", "--no-dht", "--no-lsd"})
            .exit_code == 6);
}

TEST_CASE("fetch refuses before any model data: wrong key, no key, manifest/torrent mismatch, extra file") {
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair key = modelswarm::generate_key_pair();
  Release r = make_release(tmp / "pub", {.name = "guarded", .size = scaled(8 << 20)}, &key);
  Peer seeder = start_seed({r.dir}, tmp / "seed");
  // Payload a refused fetch may have received: the two signed files (and nothing else);
  // libtorrent counts whole 16 KiB blocks.
  auto blocks = [](std::uintmax_t n) { return static_cast<std::int64_t>((n + 16383) / 16384 * 16384); };
  const std::int64_t meta_blocks = blocks(fs::file_size(r.dir / ".modelswarm" / "manifest.json")) +
                                   blocks(fs::file_size(r.dir / ".modelswarm" / "manifest.json.minisig"));
  auto only_manifest = [&](const mstest::ProcessResult& res) {
    CHECK(downloaded_bytes(res.out) <= meta_blocks);
    CHECK(!fs::exists(tmp / "out" / "guarded" / "model.bin"));
  };

  SUBCASE("a key that did not sign it") {
    std::string other = modelswarm::generate_key_pair().public_key.to_base64();
    auto res = mstest::run_cli(fetch_args(r.magnet, other, tmp / "out", {"--peer", peer_arg(seeder.port)}), 60s);
    CHECK(res.exit_code == 3);
    only_manifest(res);
  }
  SUBCASE("no key at all") {
    auto res = mstest::run_cli(fetch_args(r.magnet, "", tmp / "out", {"--peer", peer_arg(seeder.port)}), 60s);
    CHECK(res.exit_code == 3);
    only_manifest(res);
  }
  SUBCASE("a torrent whose files are not the manifest's") {
    // Same name and key, different bytes: the signed manifest of one release inside a torrent
    // of the other's data.
    Release other = make_release(tmp / "pub2", {.name = "guarded", .size = scaled(8 << 20), .seed = 99}, &key);
    fs::copy_file(r.dir / ".modelswarm" / "manifest.json", other.dir / ".modelswarm" / "manifest.json",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(r.dir / ".modelswarm" / "manifest.json.minisig",
                  other.dir / ".modelswarm" / "manifest.json.minisig", fs::copy_options::overwrite_existing);
    write_torrent(other.dir, tmp / "mixed.torrent", 256 << 10);
    mstest::Background evil({evil_seed_tool(), (tmp / "mixed.torrent").string(), (tmp / "pub2").string()},
                            (tmp / "evil").string());
    int port = listening_port(evil);
    auto res = mstest::run_cli(fetch_args((tmp / "mixed.torrent").string(), r.public_key, tmp / "out",
                                          {"--peer", peer_arg(port)}), 60s);
    INFO(res.err);
    CHECK(res.exit_code == 4);
    only_manifest(res);
  }
  SUBCASE("a torrent with an extra file") {
    mstest::write_file((r.dir / "extra.bin").string(), std::string(100000, 'x'));
    write_torrent(r.dir, tmp / "extra.torrent", 256 << 10);
    fs::path serve = tmp / "pub";
    mstest::Background evil({evil_seed_tool(), (tmp / "extra.torrent").string(), serve.string()},
                            (tmp / "evil").string());
    int port = listening_port(evil);
    auto res = mstest::run_cli(fetch_args((tmp / "extra.torrent").string(), r.public_key, tmp / "out",
                                          {"--peer", peer_arg(port)}), 60s);
    INFO(res.err);
    CHECK(res.exit_code == 4);
    only_manifest(res);
    fs::remove(r.dir / "extra.bin");
  }
}

TEST_CASE("a signed chunk hash the data does not match: --paranoid refuses it, the merkle proof alone does not") {
  // A publisher's manifest with a wrong chunk hash (a packing bug, or bytes changed after the
  // chunks were hashed) but right pieces roots: libtorrent's merkle checks pass, so the bytes are
  // exactly those the publisher's signed roots name. Only the second pass (--paranoid) sees the
  // publisher's inconsistency; `verify` sees it too.
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair key = modelswarm::generate_key_pair();
  Release r = make_release(tmp / "pub", {.name = "misled", .size = scaled(8 << 20)}, &key);
  fs::path mpath = r.dir / ".modelswarm" / "manifest.json";
  auto m = modelswarm::parse_manifest(mstest::read_file(mpath.string()), "manifest");
  REQUIRE(m.ok());
  REQUIRE(m->files[0].path == "model.bin");
  m->files[0].chunks.back().sha256[7] ^= 1;
  std::string bytes = modelswarm::serialize_manifest(*m);
  auto sig = modelswarm::sign_message(bytes, key.secret_key, "misled");
  REQUIRE(sig.ok());
  mstest::write_file(mpath.string(), bytes);
  mstest::write_file((r.dir / ".modelswarm" / "manifest.json.minisig").string(), modelswarm::format_signature(*sig));
  write_torrent(r.dir, tmp / "misled.torrent", 256 << 10);
  mstest::Background seed({evil_seed_tool(), (tmp / "misled.torrent").string(), (tmp / "pub").string()},
                          (tmp / "seed").string());
  int port = listening_port(seed);

  SUBCASE("--paranoid") {
    auto res = mstest::run_cli(fetch_args((tmp / "misled.torrent").string(), r.public_key, tmp / "out",
                                          {"--peer", peer_arg(port), "--paranoid"}), 120s);
    INFO(res.err);
    CHECK(res.exit_code == 4);
    CHECK(res.err.find("model.bin") != std::string::npos);
    CHECK(res.err.find("differs from the signed manifest") != std::string::npos);
    // Every byte was downloaded and passed libtorrent's checks, yet nothing is in place.
    CHECK(downloaded_bytes(res.out) >= static_cast<std::int64_t>(r.size));
    CHECK(!fs::exists(tmp / "out" / "misled"));
  }
  SUBCASE("default: one pass, the signed roots") {
    auto res = mstest::run_cli(fetch_args((tmp / "misled.torrent").string(), r.public_key, tmp / "out",
                                          {"--peer", peer_arg(port)}), 120s);
    INFO(res.err);
    CHECK(res.exit_code == 0);
    auto v = mstest::run_cli({"verify", (tmp / "out" / "misled").string(), "--trust", r.public_key}, 60s);
    CHECK(v.exit_code == 4);
    CHECK(v.err.find("model.bin") != std::string::npos);
  }
}

TEST_CASE("seed record: files unchanged since verify are served at once; a changed file is hashed again") {
  Home home;
  mstest::TempDir tmp;
  Release r = make_release(tmp / "pub", {.name = "stamped", .size = scaled(4 << 20)});
  // `verify` hashes every chunk and leaves the seed record in the registry.
  auto v = mstest::run_cli({"verify", r.dir.string(), "--trust", r.public_key}, 60s);
  REQUIRE_MESSAGE(v.exit_code == 0, v.err);
  const std::vector<std::string> fetch_extra = {"--no-reuse"};  // this test shares one registry

  SUBCASE("unchanged: no file is hashed before it is served") {
    Peer seeder = start_seed({r.dir}, tmp / "seed");
    REQUIRE(seeder.proc.wait_for_output("\"added\"", 30s));  // printed after "listening"
    auto added = events(seeder.proc.out(), "added");
    REQUIRE(added.size() == 1);
    CHECK(added[0].value("message", "").find("4 of 4 files unchanged since hashed here") != std::string::npos);
    auto extra = fetch_extra;
    extra.insert(extra.end(), {"--peer", peer_arg(seeder.port)});
    auto res = mstest::run_cli(fetch_args(r.torrent.string(), r.public_key, tmp / "out", extra), 60s);
    INFO(res.err);
    REQUIRE(res.exit_code == 0);
    CHECK(same_bytes(r.dir / "model.bin", tmp / "out" / "stamped" / "model.bin"));
  }

  SUBCASE("a byte changed after verify, mtime restored: hashed before upload, never served") {
    fs::path model = r.dir / "model.bin";
    auto mtime = fs::last_write_time(model);
    const std::uint64_t at = fs::file_size(model) / 2;
    std::string bytes = mstest::read_file(model.string());
    char changed = static_cast<char>(bytes[at] ^ 0x5a);
    {
      std::fstream f(model, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(at));
      f.put(changed);
    }
    fs::last_write_time(model, mtime);  // only the ctime tells
    Peer seeder = start_seed({r.dir}, tmp / "seed");
    REQUIRE(seeder.proc.wait_for_output("\"added\"", 30s));  // printed after "listening"
    auto added = events(seeder.proc.out(), "added");
    REQUIRE(added.size() == 1);
    std::string note = added[0].value("message", "");
    CHECK(note.find("3 of 4 files") != std::string::npos);
    CHECK(note.find("model.bin") != std::string::npos);
    auto extra = fetch_extra;
    extra.insert(extra.end(), {"--peer", peer_arg(seeder.port)});
    auto res = mstest::run_cli(fetch_args(r.torrent.string(), r.public_key, tmp / "out", extra), 20s);
    CHECK(res.exit_code != 0);
    CHECK(!fs::exists(tmp / "out" / "stamped"));
    // The piece with the changed byte never reached the fetcher's staging file.
    for (auto it = fs::recursive_directory_iterator(tmp / "out"); it != fs::recursive_directory_iterator(); ++it) {
      if (it->path().filename() != "model.bin" || !it->is_regular_file() || it->file_size() <= at) continue;
      std::string staged = mstest::read_file(it->path().string());
      CHECK(staged[at] != changed);
    }
  }
}
