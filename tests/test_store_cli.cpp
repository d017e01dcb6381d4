// The registry through the CLI: pack and verify register, list, forget, and gc of the staging an
// interrupted fetch left (never of a running fetch's).
#include <doctest/doctest.h>

#include <csignal>
#include <set>

#include "store_fixture.hpp"
#include "swarm_helpers.hpp"

using storetest::parse_json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct Keys {
  mstest::TempDir dir;
  std::string pub;
  std::string key() const { return (dir / "k.key").string(); }
  Keys() {
    auto r = mstest::run_cli({"keygen", "--no-password", "-o", (dir / "k").string()});
    REQUIRE(r.exit_code == 0);
    pub = r.out.substr(0, r.out.find('\n'));
  }
};

fs::path small_release(const fs::path& dir, const std::string& text) {
  fs::create_directories(dir);
  mstest::write_file((dir / "weights.bin").string(), text + std::string(100000, 'x'));
  return dir;
}

nlohmann::json list_json(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"list", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = mstest::run_cli(args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return parse_json(r.out)["releases"];
}

}  // namespace

TEST_CASE("pack and verify register releases; list and forget manage the registry") {
  storetest::Home home;
  Keys keys;
  mstest::TempDir tmp;
  fs::path a = small_release(tmp / "alpha", "a");
  fs::path b = small_release(tmp / "beta", "b");

  CHECK(list_json().empty());
  auto empty = mstest::run_cli({"list"});
  CHECK(empty.exit_code == 0);

  REQUIRE(mstest::run_cli({"pack", a.string(), "-k", keys.key(), "-n", "alpha", "-V", "1"}).exit_code == 0);
  auto l = list_json();
  REQUIRE(l.size() == 1);
  CHECK(l[0]["name"] == "alpha");
  CHECK(l[0]["version"] == 1);
  CHECK(fs::equivalent(l[0]["dir"].get<std::string>(), a));
  CHECK(l[0]["present"] == true);
  CHECK(l[0]["info_hash"].get<std::string>().size() == 64);

  // Re-packing the same directory as a new version replaces its entry (one release per dir).
  REQUIRE(mstest::run_cli({"pack", a.string(), "-k", keys.key(), "-n", "alpha", "-V", "2"}).exit_code == 0);
  l = list_json();
  REQUIRE(l.size() == 1);
  CHECK(l[0]["version"] == 2);

  // A release packed elsewhere and copied here is registered once verified (without its torrent:
  // the id is then the manifest's SHA-256).
  REQUIRE(mstest::run_cli({"pack", b.string(), "-k", keys.key(), "-n", "beta", "-V", "1"}).exit_code == 0);
  REQUIRE(mstest::run_cli({"forget", "beta"}).exit_code == 0);
  fs::create_directories(tmp / "copy");
  fs::copy(b, tmp / "copy" / "beta", fs::copy_options::recursive);
  fs::remove(tmp / "copy" / "beta" / ".modelswarm" / "release.torrent");
  CHECK(list_json().size() == 1);
  auto v = mstest::run_cli({"verify", (tmp / "copy" / "beta").string(), "--trust", keys.pub});
  REQUIRE_MESSAGE(v.exit_code == 0, v.err);
  l = list_json({"beta"});
  REQUIRE(l.size() == 1);
  CHECK(fs::equivalent(l[0]["dir"].get<std::string>(), tmp / "copy" / "beta"));
  std::string beta_id = l[0]["info_hash"];
  // A failed verification registers nothing.
  mstest::write_file((a / "weights.bin").string(), "tampered");
  CHECK(mstest::run_cli({"verify", a.string(), "--trust", keys.pub}).exit_code == 4);
  CHECK(list_json().size() == 2);

  // Human list: a table with both.
  auto h = mstest::run_cli({"list"});
  REQUIRE(h.exit_code == 0);
  CHECK(h.out.find("alpha") != std::string::npos);
  CHECK(h.out.find("beta") != std::string::npos);

  // forget by id prefix, by NAME@VERSION; unknown and ambiguous selectors are usage errors.
  auto bad = mstest::run_cli({"forget", "nothing-like-this", "--json"});
  CHECK(bad.exit_code == 2);
  CHECK(parse_json(bad.out)["exit_code"] == 2);
  auto f = mstest::run_cli({"forget", beta_id.substr(0, 12), "--json"});
  REQUIRE(f.exit_code == 0);
  CHECK(parse_json(f.out)["forgotten"][0]["name"] == "beta");
  CHECK(fs::exists(tmp / "copy" / "beta" / "weights.bin"));  // files stay
  CHECK(mstest::run_cli({"forget", "alpha@1"}).exit_code == 2);
  CHECK(mstest::run_cli({"forget", "alpha@2"}).exit_code == 0);
  CHECK(list_json().empty());

  // Two releases with the same name: forgetting by name needs --all.
  fs::path c = small_release(tmp / "alpha2", "c");
  REQUIRE(mstest::run_cli({"pack", c.string(), "-k", keys.key(), "-n", "alpha", "-V", "3"}).exit_code == 0);
  REQUIRE(mstest::run_cli({"verify", (tmp / "copy" / "beta").string(), "--trust", keys.pub}).exit_code == 0);
  fs::path d = small_release(tmp / "alpha3", "d");
  REQUIRE(mstest::run_cli({"pack", d.string(), "-k", keys.key(), "-n", "alpha", "-V", "4"}).exit_code == 0);
  CHECK(mstest::run_cli({"forget", "alpha"}).exit_code == 2);
  CHECK(mstest::run_cli({"forget", "alpha", "--all"}).exit_code == 0);
  l = list_json();
  REQUIRE(l.size() == 1);
  CHECK(l[0]["name"] == "beta");

  // gc drops entries whose release directory is gone, and only those.
  fs::remove_all(tmp / "copy");
  auto m = list_json();
  REQUIRE(m.size() == 1);
  CHECK(m[0]["present"] == false);
  auto dry = mstest::run_cli({"gc", "--dry-run", "--json"});
  REQUIRE(dry.exit_code == 0);
  CHECK(parse_json(dry.out)["removed"].size() == 1);
  CHECK(list_json().size() == 1);
  auto g = mstest::run_cli({"gc", "--json"});
  REQUIRE(g.exit_code == 0);
  auto gj = parse_json(g.out);
  REQUIRE(gj["removed"].size() == 1);
  CHECK(gj["removed"][0]["kind"] == "registry_entry");
  CHECK(list_json().empty());
}

TEST_CASE("gc removes an interrupted fetch's staging, never a running fetch's") {
  storetest::Home home;
  mstest::TempDir tmp;
  swarmtest::Release r = swarmtest::make_release(tmp / "pub", {.name = "gc-model", .size = 2 << 20});
  fs::path out = tmp / "out";
  // A fetch with no peer at all: it stages, waits, and is interrupted.
  auto args = mstest::cli_argv(swarmtest::fetch_args(r.torrent.string(), r.public_key, out));
  mstest::Background fetch(args, (tmp / "fetch").string());
  REQUIRE(fetch.wait_for_output("\"metadata\"", 30s));
  fs::path partial = out / ".modelswarm-partial";
  REQUIRE(fs::is_directory(partial));

  // Running: gc leaves it alone and says so; a second fetch of the same release into the same
  // directory is refused rather than sharing the staging.
  auto busy = mstest::run_cli({"gc", "--json"});
  REQUIRE(busy.exit_code == 0);
  auto bj = parse_json(busy.out);
  CHECK(bj["removed"].empty());
  REQUIRE(bj["in_use"].size() == 1);
  CHECK(fs::is_directory(partial));
  auto twice = mstest::run_cli(swarmtest::fetch_args(r.torrent.string(), r.public_key, out), 30s);
  CHECK(twice.exit_code == 2);
  CHECK(twice.err.find("another fetch") != std::string::npos);

  CHECK(fetch.stop(SIGTERM) == 130);
  REQUIRE(fs::is_directory(partial));

  // Interrupted: gc finds it without being told where (the fetch recorded its directory).
  auto dry = mstest::run_cli({"gc", "-n"});
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("would remove") != std::string::npos);
  CHECK(fs::is_directory(partial));
  auto g = mstest::run_cli({"gc", "--json"});
  REQUIRE_MESSAGE(g.exit_code == 0, g.err);
  auto gj = parse_json(g.out);
  std::set<std::string> kinds;
  for (const auto& i : gj["removed"]) kinds.insert(i["kind"].get<std::string>());
  CHECK(kinds.count("staging") == 1);
  CHECK(kinds.count("lock") == 1);
  CHECK(!fs::exists(partial));
  CHECK(!fs::exists(out / r.name));
  // Nothing left: a second gc finds nothing.
  auto again = mstest::run_cli({"gc", "--json", out.string()});
  REQUIRE(again.exit_code == 0);
  CHECK(parse_json(again.out)["removed"].empty());
}
