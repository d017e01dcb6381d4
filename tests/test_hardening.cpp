// What a hostile-input review found, each through the real CLI: outputs that already exist or
// are links (fetch, import and mirror refuse them alike), links inside a release (seed refuses
// them), refusals that need no peer (and come before anything listens), a fetch that waits for
// nobody (status, stall timeout), and the exit codes of the table in README/modelswarm(1).
#include <doctest/doctest.h>

#include <csignal>

#include "release_fixture.hpp"
#include "swarm_helpers.hpp"

using namespace swarmtest;

namespace {

// The message of the {"error":{...},"exit_code":N} document a failed --json command ends with.
std::string first_error(const std::string& out) {
  for (auto& j : json_lines(out))
    if (j.contains("error") && j["error"].is_object()) return j["error"].value("message", "");
  return {};
}

// Each way an output directory can be taken: a link to elsewhere, a non-empty directory, a file.
void occupy(const fs::path& final_dir, const fs::path& elsewhere, int how) {
  if (how == 0) {
    fs::create_directories(elsewhere);
    fs::create_directory_symlink(elsewhere, final_dir);
  } else if (how == 1) {
    fs::create_directories(final_dir);
    mstest::write_file((final_dir / "notes.txt").string(), "mine\n");
  } else {
    mstest::write_file(final_dir.string(), "a file\n");
  }
}

}  // namespace

TEST_CASE("fetch, import and mirror refuse an occupied DIR/NAME alike (2), and write nothing through a link") {
  Home home;
  mstest::TempDir tmp;
  Release rel = make_release(tmp / "pub", {.name = "occupied", .size = 1 << 20});
  REQUIRE(mstest::run_cli({"export", rel.dir.string(), "-o", (tmp / "rel.msb").string()}).exit_code == 0);
  for (int how = 0; how < 3; ++how) {
    CAPTURE(how);
    fs::path out = tmp / ("out" + std::to_string(how));
    fs::path elsewhere = tmp / ("elsewhere" + std::to_string(how));
    fs::create_directories(out);
    occupy(out / "occupied", elsewhere, how);
    auto before = mstest::snapshot(out);

    auto imp = mstest::run_cli({"import", (tmp / "rel.msb").string(), "-o", out.string(), "--trust",
                                rel.public_key, "--json"});
    CHECK(imp.exit_code == 2);
    CHECK(first_error(imp.out).find(out.string() + "/occupied") != std::string::npos);

    auto f = mstest::run_cli(fetch_args(rel.torrent.string(), rel.public_key, out), 60s);
    CHECK(f.exit_code == 2);

    fs::path mirror_file = tmp / "mirror.json";
    mstest::write_file(mirror_file.string(),
                       json{{"format", "modelswarm.mirror/1"},
                            {"releases", {{{"source", rel.torrent.string()}, {"trust", rel.public_key},
                                           {"dest", out.string()}}}}}
                           .dump());
    Peer seeder = start_seed({rel.dir}, tmp / ("seed" + std::to_string(how)));
    std::vector<std::string> margs{"mirror", mirror_file.string(), "--peer", peer_arg(seeder.port)};
    for (auto& a : lan_flags()) margs.push_back(a);
    auto m = mstest::run_cli(margs, 60s);
    CHECK(m.exit_code == 2);
    seeder.proc.stop(SIGTERM);
    if (how == 0) CHECK(fs::is_empty(elsewhere));  // nothing went through the link
    std::error_code ec;
    fs::remove_all(out / ".modelswarm-partial", ec);
    fs::remove_all(out / ".modelswarm-mirror", ec);
    CHECK(mstest::snapshot(out) == before);
  }
  // An empty directory made beforehand is fine.
  fs::create_directories(tmp / "empty" / "occupied");
  CHECK(mstest::run_cli({"import", (tmp / "rel.msb").string(), "-o", (tmp / "empty").string(), "--trust",
                         rel.public_key}).exit_code == 0);
}

TEST_CASE("seed refuses a release whose model file is a link out of it (4), before it listens") {
  Home home;
  mstest::TempDir tmp;
  Release rel = make_release(tmp / "pub", {.name = "linked", .size = 1 << 20});
  fs::rename(rel.dir / "model.bin", tmp / "outside.bin");
  fs::create_symlink(tmp / "outside.bin", rel.dir / "model.bin");
  std::vector<std::string> args{"seed", rel.dir.string()};
  for (auto& a : lan_flags()) args.push_back(a);
  auto r = mstest::run_cli(args, 30s);
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("\"listening\"") == std::string::npos);
  CHECK(first_error(r.out).find("symbolic link") != std::string::npos);
  CHECK(mstest::run_cli({"verify", rel.dir.string(), "--trust", rel.public_key}).exit_code == 4);
}

TEST_CASE("fetch refusals that need no peer come first: bad flags (2), v1-only (7), no trusted key (3)") {
  Home home;
  mstest::TempDir tmp;
  Release rel = make_release(tmp / "pub", {.name = "early", .size = 1 << 20});
  auto r = mstest::run_cli({"fetch", "x", "--bogus-flag"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--bogus-flag") != std::string::npos);

  // Empty trust store, no --trust: refused before the session opens.
  r = mstest::run_cli(fetch_args(rel.torrent.string(), "", tmp / "o"), 30s);
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("\"listening\"") == std::string::npos);
  CHECK(first_error(r.out).find("trust") != std::string::npos);

  r = mstest::run_cli(fetch_args("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", rel.public_key,
                                 tmp / "o"), 30s);
  CHECK(r.exit_code == 7);
  CHECK(r.out.find("\"listening\"") == std::string::npos);
  CHECK(first_error(r.out).find("v1-only") != std::string::npos);

  namespace lt = libtorrent;
  lt::file_storage fsto;
  lt::add_files(fsto, rel.dir.string());
  lt::create_torrent ct(fsto, 1 << 16, lt::create_torrent::v1_only);
  lt::set_piece_hashes(ct, rel.dir.parent_path().string());
  std::vector<char> buf;
  lt::bencode(std::back_inserter(buf), ct.generate());
  mstest::write_file((tmp / "v1.torrent").string(), std::string(buf.begin(), buf.end()));
  r = mstest::run_cli(fetch_args((tmp / "v1.torrent").string(), rel.public_key, tmp / "o"), 30s);
  CHECK(r.exit_code == 7);
  CHECK(!fs::exists(tmp / "o" / "early"));

  r = mstest::run_cli(fetch_args(rel.torrent.string(), rel.public_key, tmp / "o", {"--trust", "RWbogus"}), 30s);
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("\"listening\"") == std::string::npos);
}

TEST_CASE("a fetch with no peer says what it waits for, then gives up after --stall-timeout (5), resumable") {
  Home home;
  mstest::TempDir tmp;
  Release rel = make_release(tmp / "pub", {.name = "lonely", .size = 1 << 20});
  // Text mode, stderr not a terminal: a waiting line names peers, trackers and the DHT.
  std::vector<std::string> args{"fetch", rel.torrent.string(), "-o", (tmp / "o").string(), "--trust", rel.public_key,
                                "--listen", "127.0.0.1:0", "--no-dht", "--no-lsd", "--stall-timeout", "8",
                                "--status-interval", "0.5"};
  auto start = std::chrono::steady_clock::now();
  auto r = mstest::run_cli(args, 60s);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r.err);
  CHECK(r.exit_code == 5);
  CHECK(took < 40);
  CHECK(r.err.find("waiting for peers") != std::string::npos);
  CHECK(r.err.find("0 peers connected") != std::string::npos);
  CHECK(r.err.find("DHT off") != std::string::npos);
  CHECK(r.err.find("no progress for 8 s") != std::string::npos);
  CHECK(!fs::exists(tmp / "o" / "lonely"));
  // JSON progress events carry the same facts.
  args.push_back("--json");
  r = mstest::run_cli(args, 60s);
  CHECK(r.exit_code == 5);
  auto progress = events(r.out, "progress");
  REQUIRE(!progress.empty());
  CHECK(progress.back()["peers_known"] == 0);
  CHECK(progress.back()["dht_nodes"].is_null());
  CHECK(progress.back()["lsd"] == false);

  // The same fetch, run again with the seeder up, completes.
  Peer seeder = start_seed({rel.dir}, tmp / "seed");
  auto ok = mstest::run_cli(fetch_args(rel.torrent.string(), rel.public_key, tmp / "o",
                                       {"--peer", peer_arg(seeder.port), "--stall-timeout", "30"}),
                            60s);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(seeder.proc.stop(SIGINT) == 130);  // seeding ends with a signal: exit 130, as the table says
}
