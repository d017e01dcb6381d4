// `modelswarm serve` with real clients on 127.0.0.1: a release named in the catalogue is fetched
// through the swarm on the first request, then served to curl (Range too) and to the
// @huggingface/hub npm client byte for byte, and seeded; unknown repos get the Hub's 404; a
// release whose signature does not verify with the catalogue's key is never served.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "modelswarm/gateway.hpp"
#include "modelswarm/sha256.hpp"
#include "swarm_helpers.hpp"

using namespace swarmtest;

namespace {

struct Gateway {
  std::unique_ptr<mstest::Background> proc;
  int port = 0;
  std::string url;
};

Gateway start_gateway(const fs::path& catalogue, const fs::path& log, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0", "--catalogue", catalogue.string(), "--json",
                                "--profile", "lan", "--no-dht", "--no-lsd", "--status-interval", "0.5"};
  args.insert(args.end(), extra.begin(), extra.end());
  Gateway g;
  g.proc = std::make_unique<mstest::Background>(mstest::cli_argv(args), log.string());
  REQUIRE_MESSAGE(g.proc->wait_for_output("\"serving\"", 60s), g.proc->err());
  auto ev = events(g.proc->out(), "serving");
  REQUIRE(!ev.empty());
  g.port = ev[0]["port"].get<int>();
  g.url = "http://127.0.0.1:" + std::to_string(g.port);
  return g;
}

// curl, bounded: -D - puts the response headers before the body on stdout.
mstest::ProcessResult curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "120"};
  argv.insert(argv.end(), args.begin(), args.end());
  return mstest::run(argv, 150s);
}

std::string header(const std::string& response, const std::string& name) {
  std::string lower = response;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string key = "\n" + name + ":";
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto p = lower.find(key);
  if (p == std::string::npos) return {};
  auto start = p + key.size();
  auto end = response.find('\r', start);
  std::string v = response.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

int status_of(const std::string& response) {
  auto sp = response.find(' ');
  return sp == std::string::npos ? 0 : std::atoi(response.c_str() + sp + 1);
}

std::string file_sha256(const fs::path& p) {
  return modelswarm::to_hex(modelswarm::sha256(mstest::read_file(p.string())));
}

std::string info_hash_of(const std::string& magnet) {
  auto p = magnet.find("urn:btmh:1220");
  REQUIRE(p != std::string::npos);
  return magnet.substr(p + 13, 64);
}

bool have(const char* tool) { return mstest::run({"sh", "-c", std::string("command -v ") + tool}, 10s).exit_code == 0; }

// Installs @huggingface/hub into `dir` (the npm registry must be reachable); false with a
// message when node or npm is missing or the install fails.
bool install_hf_hub(const fs::path& dir) {
  if (!have("node") || !have("npm")) {
    MESSAGE("node/npm not installed: the @huggingface/hub client test is skipped (scripts/setup.sh installs them)");
    return false;
  }
  fs::create_directories(dir);
  mstest::write_file((dir / "package.json").string(), R"({"name":"gateway-test","private":true,"type":"module"})");
  auto r = mstest::run({"npm", "install", "--prefix", dir.string(), "--no-audit", "--no-fund", "--loglevel=error",
                        "@huggingface/hub"}, 300s);
  if (r.exit_code != 0) {
    MESSAGE("npm install @huggingface/hub failed, the npm client test is skipped: " << r.err);
    return false;
  }
  fs::copy_file(fs::path(MODELSWARM_SOURCE_DIR) / "tests/support/hf_hub_client.mjs", dir / "hf_hub_client.mjs",
                fs::copy_options::overwrite_existing);
  return true;
}

json catalogue_for(const Release& r, const std::string& trust, int seeder_port) {
  return json{{"format", "modelswarm.catalogue/1"},
              {"store", "store"},
              {"peers", {peer_arg(seeder_port)}},
              {"repos", {{"acme/" + r.name, {{"trust", trust},
                                             {"releases", {{{"version", 1}, {"source", r.magnet}, {"revisions", {"v1"}}}}}}}}}};
}

}  // namespace

TEST_CASE("serve fetches a release on first request, serves its exact bytes to curl and the npm client, seeds it") {
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair key = modelswarm::generate_key_pair();
  Release rel = make_release(tmp / "pub", {.name = "gw-model", .size = scaled(4 << 20), .seed = 7}, &key);
  Peer seeder = start_seed({rel.dir}, tmp / "seed", {"--trust", rel.public_key});
  fs::path cat = tmp / "catalogue.json";
  mstest::write_file(cat.string(), catalogue_for(rel, rel.public_key, seeder.port).dump(2));
  int swarm_port = free_port();
  Gateway gw = start_gateway(cat, tmp / "gw", {"--swarm-listen", "127.0.0.1:" + std::to_string(swarm_port)});
  const std::string commit = info_hash_of(rel.magnet).substr(0, 40);
  const std::string file_url = gw.url + "/acme/gw-model/resolve/main/model.bin";

  // The first request waits for the fetch, then gets the Hub's headers.
  auto head = curl({"-I", file_url});
  INFO(gw.proc->err());
  REQUIRE(head.exit_code == 0);
  CHECK(status_of(head.out) == 200);
  CHECK(header(head.out, "X-Repo-Commit") == commit);
  const std::string sha = file_sha256(rel.dir / "model.bin");
  CHECK(header(head.out, "ETag") == "\"" + sha + "\"");
  CHECK(header(head.out, "X-Linked-Etag") == "\"" + sha + "\"");
  CHECK(header(head.out, "X-Linked-Size") == std::to_string(fs::file_size(rel.dir / "model.bin")));
  CHECK(header(head.out, "Content-Length") == std::to_string(fs::file_size(rel.dir / "model.bin")));
  CHECK(header(head.out, "Accept-Ranges") == "bytes");
  fs::path held = tmp / "store" / "acme--gw-model" / "1" / "gw-model";
  CHECK(fs::exists(held / "model.bin"));

  // Whole file, a range, the commit id and a revision name, a file in a subdirectory.
  auto whole = curl({"-o", (tmp / "whole.bin").string(), file_url});
  REQUIRE(whole.exit_code == 0);
  CHECK(same_bytes(tmp / "whole.bin", rel.dir / "model.bin"));
  auto part = curl({"-D", (tmp / "part.hdr").string(), "-r", "1000-66535", "-o", (tmp / "part.bin").string(),
                    gw.url + "/acme/gw-model/resolve/" + commit + "/model.bin"});
  REQUIRE(part.exit_code == 0);
  std::string hdr = mstest::read_file((tmp / "part.hdr").string());
  CHECK(status_of(hdr) == 206);
  CHECK(header(hdr, "Content-Range") == "bytes 1000-66535/" + std::to_string(fs::file_size(rel.dir / "model.bin")));
  CHECK(mstest::read_file((tmp / "part.bin").string()) == mstest::read_file((rel.dir / "model.bin").string()).substr(1000, 65536));
  auto sub = curl({"-o", (tmp / "tok.bin").string(), gw.url + "/acme/gw-model/resolve/v1/sub/tokenizer.bin"});
  REQUIRE(sub.exit_code == 0);
  CHECK(same_bytes(tmp / "tok.bin", rel.dir / "sub" / "tokenizer.bin"));

  // Model info: revision id and file list.
  auto info = curl({gw.url + "/api/models/acme/gw-model/revision/main"});
  json j = json::parse(info.out, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["sha"] == commit);
  CHECK(j["siblings"].size() == 2);

  // Unknown repo, revision and file: 404 with the error code clients read.
  auto nope = curl({"-D", "-", "-o", "/dev/null", gw.url + "/nobody/nothing/resolve/main/x.bin"});
  CHECK(status_of(nope.out) == 404);
  CHECK(header(nope.out, "X-Error-Code") == "RepoNotFound");
  auto norev = curl({"-D", "-", "-o", "/dev/null", gw.url + "/acme/gw-model/resolve/v9/model.bin"});
  CHECK(header(norev.out, "X-Error-Code") == "RevisionNotFound");
  auto nofile = curl({"-D", "-", "-o", "/dev/null", gw.url + "/acme/gw-model/resolve/main/missing.bin"});
  CHECK(status_of(nofile.out) == 404);
  CHECK(header(nofile.out, "X-Error-Code") == "EntryNotFound");
  auto noapi = curl({"-w", "%{http_code}", "-o", "/dev/null", gw.url + "/api/models/nobody/nothing"});
  CHECK(noapi.out == "404");

  // The @huggingface/hub client: listFiles, downloadFile, snapshotDownload.
  fs::path npm = fs::path(MODELSWARM_TEST_TOOLS_DIR) / "npm-hf-hub";
  if (fs::exists(npm / "node_modules/@huggingface/hub") || install_hf_hub(npm)) {
    fs::copy_file(fs::path(MODELSWARM_SOURCE_DIR) / "tests/support/hf_hub_client.mjs", npm / "hf_hub_client.mjs",
                  fs::copy_options::overwrite_existing);
    auto r = mstest::run({"node", (npm / "hf_hub_client.mjs").string(), gw.url, "acme/gw-model", "model.bin",
                          (tmp / "hfcache").string()}, 120s);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // The client logs its downloads on stdout too: the result is the last line.
    json out = json::parse(r.out.substr(r.out.find("{\"files\"") == std::string::npos ? 0 : r.out.find("{\"files\"")),
                           nullptr, false);
    REQUIRE(out.is_object());
    CHECK(out["sha256"] == sha);
    CHECK(out["size"] == fs::file_size(rel.dir / "model.bin"));
    CHECK(out["unknown"] == 404);
    std::set<std::string> listed;
    for (const auto& f : out["files"])
      if (f["type"] == "file") listed.insert(f["path"].get<std::string>());
    CHECK(listed == std::set<std::string>{"model.bin", "sub/tokenizer.bin"});
    if (out.contains("snapshot")) {
      fs::path snap = out["snapshot"].get<std::string>();
      CHECK(snap.filename() == commit);
      CHECK(same_bytes(snap / "model.bin", rel.dir / "model.bin"));
      CHECK(same_bytes(snap / "sub" / "tokenizer.bin", rel.dir / "sub" / "tokenizer.bin"));
    }
  }

  // What the gateway holds it seeds: with the publisher's seeder gone, a peer fetches from it.
  CHECK(seeder.proc.stop(SIGTERM) == 130);
  auto fetched = mstest::run_cli(fetch_args(rel.magnet, rel.public_key, tmp / "leech",
                                            {"--peer", peer_arg(swarm_port), "--stall-timeout", "60"}), 120s);
  INFO(fetched.err);
  CHECK(fetched.exit_code == 0);
  CHECK(same_bytes(tmp / "leech" / "gw-model" / "model.bin", rel.dir / "model.bin"));

  CHECK(gw.proc->stop(SIGTERM) == 130);
}

TEST_CASE("a release whose signature does not verify with the catalogue's key is never served") {
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair publisher = modelswarm::generate_key_pair();
  modelswarm::KeyPair expected = modelswarm::generate_key_pair();
  Release rel = make_release(tmp / "pub", {.name = "forged", .size = scaled(1 << 20), .seed = 9}, &publisher);
  Peer seeder = start_seed({rel.dir}, tmp / "seed", {"--trust", rel.public_key});
  fs::path cat = tmp / "catalogue.json";
  mstest::write_file(cat.string(), catalogue_for(rel, expected.public_key.to_base64(), seeder.port).dump(2));
  // --wait 0: a request for a release being fetched is answered 503 with Retry-After at once.
  Gateway gw = start_gateway(cat, tmp / "gw", {"--swarm-listen", "127.0.0.1:0", "--wait", "0"});
  const std::string url = gw.url + "/acme/forged/resolve/main/model.bin";

  auto first = curl({"-D", "-", "-o", "/dev/null", url});
  CHECK(status_of(first.out) == 503);
  CHECK(!header(first.out, "Retry-After").empty());
  int last = 503;
  for (auto deadline = std::chrono::steady_clock::now() + 90s;
       last == 503 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
    auto r = curl({"-D", "-", "-o", (tmp / "body").string(), url});
    last = status_of(r.out);
  }
  INFO(gw.proc->err());
  CHECK(last == 502);
  INFO(mstest::read_file((tmp / "body").string()));
  CHECK(mstest::read_file((tmp / "body").string()).find("key") != std::string::npos);
  auto api = curl({"-w", "%{http_code}", "-o", "/dev/null", gw.url + "/api/models/acme/forged"});
  CHECK(api.out == "502");
  CHECK(!fs::exists(tmp / "store" / "acme--forged" / "1" / "forged"));
  bool reported = false;
  for (const auto& e : events(gw.proc->out(), "release"))
    reported = reported || (e["status"] == "failed" && e["error"]["code"] == "trust");
  CHECK(reported);
  CHECK(gw.proc->stop(SIGTERM) == 130);
}

TEST_CASE("serve refuses a malformed catalogue with a one-line error naming the file (exit 7)") {
  Home home;
  mstest::TempDir tmp;
  fs::path cat = tmp / "bad.json";
  mstest::write_file(cat.string(), R"({"format":"modelswarm.catalogue/1","repos":{"a/b":{"releases":[{"version":1}]}}})");
  auto r = mstest::run_cli({"serve", "--catalogue", cat.string(), "--listen", "127.0.0.1:0"}, 30s);
  CHECK(r.exit_code == 7);
  CHECK(r.err.find(cat.string()) != std::string::npos);
  CHECK(r.err.find("source") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("the example catalogue parses; duplicates and unknown keys are refused by name") {
  auto cat = modelswarm::load_catalogue(fs::path(MODELSWARM_SOURCE_DIR) / "manifests/example.catalogue.json");
  REQUIRE_MESSAGE(cat.ok(), (cat.ok() ? "" : cat.error().message));
  const auto* repo = cat->find("acme/TinyDemo-Q4_0");
  REQUIRE(repo != nullptr);
  REQUIRE(repo->releases.size() == 2);
  CHECK(repo->releases[1].revisions == std::vector<std::string>{"v2"});
  CHECK(repo->releases[0].dest == fs::path("/var/lib/modelswarm/releases/acme--TinyDemo-Q4_0/1"));
  CHECK(repo->releases[0].trust.size() == 1);

  auto parse = [](const std::string& text) { return modelswarm::parse_catalogue(text, "cat.json", "/etc"); };
  auto dup = parse(R"({"format":"modelswarm.catalogue/1","store":"s","repos":{"a/b":{"trust":"RWx",
      "releases":[{"version":1,"source":"magnet:?x"},{"version":1,"source":"magnet:?y"}]}}})");
  REQUIRE(!dup.ok());
  CHECK(dup.error().message.find("version 1 is listed twice") != std::string::npos);
  auto unknown = parse(R"({"format":"modelswarm.catalogue/1","store":"s","repos":{"a/b":{"trust":"RWx","mirror":1,
      "releases":[{"version":1,"source":"magnet:?x"}]}}})");
  REQUIRE(!unknown.ok());
  CHECK(unknown.error().message.find("unknown key 'mirror'") != std::string::npos);
  auto bad_id = parse(R"({"format":"modelswarm.catalogue/1","store":"s","repos":{"../x":{"trust":"RWx",
      "releases":[{"version":1,"source":"magnet:?x"}]}}})");
  CHECK(!bad_id.ok());
  auto main_taken = parse(R"({"format":"modelswarm.catalogue/1","store":"s","repos":{"a":{"trust":"RWx",
      "releases":[{"version":1,"source":"magnet:?x","revisions":["main"]}]}}})");
  CHECK(!main_taken.ok());
}

TEST_CASE("serve reads its catalogue again on SIGHUP: a repo added meanwhile is served on the same port") {
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair key = modelswarm::generate_key_pair();
  Release a = pack_version(tmp / "pub1", "first", 1, 31, key);
  Release b = pack_version(tmp / "pub2", "second", 1, 32, key);
  Peer seeder = start_seed({a.dir, b.dir}, tmp / "seed", {"--trust", a.public_key});
  fs::path cat = tmp / "catalogue.json";
  json one = catalogue_for(a, a.public_key, seeder.port);
  mstest::write_file(cat.string(), one.dump(2));
  Gateway gw = start_gateway(cat, tmp / "gw", {"--swarm-listen", "127.0.0.1:0"});
  auto api = [&](const std::string& repo) {
    return curl({"-w", "%{http_code}", "-o", "/dev/null", gw.url + "/api/models/acme/" + repo}).out;
  };
  CHECK(api("first") == "200");
  CHECK(api("second") == "404");

  json two = one;
  two["repos"]["acme/second"] = catalogue_for(b, b.public_key, seeder.port)["repos"]["acme/second"];
  mstest::write_file(cat.string(), two.dump(2));
  REQUIRE(kill(gw.proc->pid(), SIGHUP) == 0);
  auto serving_events = [&] { return events(gw.proc->out(), "serving"); };
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       serving_events().size() < 2 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
  }
  INFO(gw.proc->err());
  REQUIRE(serving_events().size() == 2);
  CHECK(serving_events()[1]["port"].get<int>() == gw.port);
  CHECK(api("second") == "200");
  CHECK(api("first") == "200");

  // A broken edit is reported, naming the file, and the catalogue in force stays.
  mstest::write_file(cat.string(), "{\"format\": ");
  REQUIRE(kill(gw.proc->pid(), SIGHUP) == 0);
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       serving_events().size() < 3 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
  }
  REQUIRE(serving_events().size() == 3);
  CHECK(gw.proc->err().find(cat.string()) != std::string::npos);
  CHECK(api("second") == "200");
  CHECK(gw.proc->stop(SIGTERM) == 130);
}
