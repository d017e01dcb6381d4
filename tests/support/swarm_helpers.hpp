// Helpers for the swarm suites: releases packed through the library, seeders and leechers run
// as real `modelswarm` processes on 127.0.0.1, JSON-lines parsing, free ports, hostile torrents.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "modelswarm/minisign.hpp"
#include "modelswarm/release.hpp"
#include "process.hpp"
#include "tempdir.hpp"
#include "test_env.hpp"

// Tests spell releases as designated initializers naming only the fields they change.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace swarmtest {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

using mstest::sanitized;

// Sizes shrink under ASan/UBSan, which runs everything about 3x slower.
inline std::uint64_t scaled(std::uint64_t bytes) { return sanitized() ? bytes / 4 : bytes; }

// Every suite gets its own MODELSWARM_HOME (trust store, registry, rollback state).
struct Home {
  mstest::TempDir dir;
  Home() { setenv("MODELSWARM_HOME", (dir.path() / "home").c_str(), 1); }
};

inline void write_random(const fs::path& p, std::uint64_t size, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::ofstream f(p, std::ios::binary);
  std::vector<std::uint64_t> buf(1 << 13);
  for (std::uint64_t done = 0; done < size;) {
    for (auto& w : buf) w = rng();
    std::uint64_t n = std::min<std::uint64_t>(size - done, buf.size() * 8);
    f.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(n));
    done += n;
  }
}

struct Release {
  fs::path dir;      // the release directory (named after the release)
  fs::path torrent;  // dir/.modelswarm/release.torrent
  std::string magnet;
  std::string public_key;  // "RW..."
  std::string name;
  std::uint64_t size = 0;  // model bytes
  std::uint64_t meta_size = 0;  // manifest + signature bytes
};

struct ReleaseSpec {
  std::string name = "tiny-model";
  std::uint64_t size = 4 << 20;
  std::uint64_t piece_size = 256 << 10;
  std::uint32_t seed = 1;
  std::vector<std::string> web_seeds;
  std::vector<std::string> trackers;
};

// Packs random model bytes (two files) under root/<name> with a fresh key.
inline Release make_release(const fs::path& root, const ReleaseSpec& spec,
                            const modelswarm::KeyPair* key = nullptr) {
  Release r;
  r.name = spec.name;
  r.dir = root / spec.name;
  fs::create_directories(r.dir / "sub");
  write_random(r.dir / "model.bin", spec.size - spec.size / 8, spec.seed);
  write_random(r.dir / "sub" / "tokenizer.bin", spec.size / 8, spec.seed + 1000);
  r.size = spec.size;
  static modelswarm::KeyPair default_key = modelswarm::generate_key_pair();
  const modelswarm::KeyPair& kp = key ? *key : default_key;
  modelswarm::PackOptions o;
  o.name = spec.name;
  o.version = 1;
  o.key = &kp.secret_key;
  o.piece_size = spec.piece_size;
  // Tests pack many releases with one key, some of them hostile twins of another: not the
  // publisher mistakes pack guards against (test_release checks those).
  o.allow_downgrade = true;
  o.resign = true;
  o.web_seeds = spec.web_seeds;
  o.trackers = spec.trackers;
  auto res = modelswarm::pack_release(r.dir, o);
  REQUIRE_MESSAGE(res.ok(), (res.ok() ? "" : res.error().message));
  r.magnet = res->magnet;
  r.torrent = r.dir / ".modelswarm" / "release.torrent";
  r.public_key = kp.public_key.to_base64();
  r.meta_size = fs::file_size(r.dir / ".modelswarm" / "manifest.json") +
                fs::file_size(r.dir / ".modelswarm" / "manifest.json.minisig");
  return r;
}

// Packs scaled(2 MiB) random bytes as version `version` of `name` under root/<name>.
inline Release pack_version(const fs::path& root, const std::string& name, std::uint64_t version,
                     std::uint32_t seed, const modelswarm::KeyPair& key) {
  Release r;
  r.name = name;
  r.dir = root / name;
  fs::create_directories(r.dir);
  write_random(r.dir / "model.bin", scaled(2 << 20), seed);
  modelswarm::PackOptions o;
  o.name = name;
  o.version = version;
  o.key = &key.secret_key;
  o.piece_size = 256 << 10;
  auto res = modelswarm::pack_release(r.dir, o);
  REQUIRE_MESSAGE(res.ok(), (res.ok() ? "" : res.error().message));
  r.magnet = res->magnet;
  r.torrent = r.dir / ".modelswarm" / "release.torrent";
  r.public_key = key.public_key.to_base64();
  return r;
}

inline std::vector<json> json_lines(const std::string& out) {
  std::vector<json> v;
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) break;  // a partial last line is still being written
    auto line = out.substr(pos, nl - pos);
    pos = nl + 1;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) v.push_back(std::move(j));
  }
  return v;
}

inline std::vector<json> events(const std::string& out, const std::string& kind) {
  std::vector<json> v;
  for (auto& j : json_lines(out))
    if (j.value("event", "") == kind) v.push_back(j);
  return v;
}

inline int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// True once something accepts TCP connections on 127.0.0.1:port.
inline bool wait_port(int port, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(s);
    if (ok) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

struct NginxOptions {
  // An unthrottled loopback web seed finishes a small release before any peer is even
  // connected, so a test that needs both sources to contribute must slow it down.
  std::string limit_rate = "0";
  fs::path cert, key;      // set: https (PEM server certificate chain and key)
  bool ipv6 = false;       // also listen on [::1]:port
  std::string directives;  // added to the server block (locations, redirects)
};

// nginx serving `root` on 127.0.0.1:port from a private prefix, in the foreground; killed with
// its process group when this goes out of scope.
struct Nginx {
  int port = free_port();
  bool tls = false;
  std::unique_ptr<mstest::Background> proc;
  Nginx(const fs::path& prefix, const fs::path& root, const NginxOptions& o = {})
      : tls(!o.cert.empty()) {
    fs::create_directories(prefix / "logs");
    const std::string listen_suffix = std::to_string(port) + (tls ? " ssl" : "") + ";\n";
    std::string server = "    listen 127.0.0.1:" + listen_suffix;
    if (o.ipv6) server += "    listen [::1]:" + listen_suffix;
    if (tls)
      server += "    ssl_certificate " + o.cert.string() + ";\n" +
                "    ssl_certificate_key " + o.key.string() + ";\n";
    server += "    root " + root.string() + ";\n    limit_rate " + o.limit_rate + ";\n" + o.directives;
    mstest::write_file((prefix / "nginx.conf").string(),
                       "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                       "pid " + (prefix / "nginx.pid").string() + ";\n"
                       "error_log " + (prefix / "logs" / "error.log").string() + ";\n"
                       "events { worker_connections 256; }\n"
                       "http {\n  access_log " + (prefix / "logs" / "access.log").string() + ";\n"
                       "  sendfile on;\n"
                       "  client_body_temp_path " + (prefix / "tmp").string() + ";\n"
                       "  server {\n" + server + "  }\n}\n");
    proc = std::make_unique<mstest::Background>(
        std::vector<std::string>{"nginx", "-p", prefix.string(), "-c", (prefix / "nginx.conf").string()},
        (prefix / "run").string());
    REQUIRE_MESSAGE(wait_port(port, 20s), proc->err());
  }
  std::string url() const { return scheme() + "://127.0.0.1:" + std::to_string(port) + "/"; }
  std::string url6() const { return scheme() + "://[::1]:" + std::to_string(port) + "/"; }
  std::string scheme() const { return tls ? "https" : "http"; }
};

// Options every test peer uses: loopback only, no multicast discovery, the LAN profile.
inline std::vector<std::string> lan_flags() {
  return {"--json", "--profile", "lan", "--listen", "127.0.0.1:0", "--no-lsd", "--no-dht",
          "--status-interval", "0.2"};
}

// A `modelswarm seed` (or fetch --seed) process and the port it bound.
struct Peer {
  mstest::Background proc;
  int port = 0;
  std::string peer_id;
};

inline Peer start_peer(const std::vector<std::string>& argv, const fs::path& log) {
  Peer p{mstest::Background(argv, log.string()), 0, {}};
  REQUIRE_MESSAGE(p.proc.wait_for_output("\"listening\"", 30s), p.proc.err());
  auto ev = events(p.proc.out(), "listening");
  REQUIRE(!ev.empty());
  p.port = ev[0]["port"].get<int>();
  p.peer_id = ev[0].value("peer_id", "");
  REQUIRE(p.port > 0);
  return p;
}

inline Peer start_seed(const std::vector<fs::path>& dirs, const fs::path& log,
                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"seed"};
  for (auto& d : dirs) args.push_back(d.string());
  for (auto& f : lan_flags()) args.push_back(f);
  for (auto& f : extra) args.push_back(f);
  return start_peer(mstest::cli_argv(args), log);
}

inline std::string peer_arg(int port) { return "127.0.0.1:" + std::to_string(port); }

inline std::vector<std::string> fetch_args(const std::string& source, const std::string& key,
                                           const fs::path& out,
                                           const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"fetch", source, "-o", out.string()};
  if (!key.empty()) {
    args.push_back("--trust");
    args.push_back(key);
  }
  for (auto& f : lan_flags()) args.push_back(f);
  for (auto& f : extra) args.push_back(f);
  return args;
}

inline bool same_bytes(const fs::path& a, const fs::path& b) {
  return mstest::read_file(a.string()) == mstest::read_file(b.string());
}

// Largest `downloaded` figure among the progress/done/error events of a fetch's output.
inline std::int64_t downloaded_bytes(const std::string& out) {
  std::int64_t best = 0;
  for (auto& j : json_lines(out))
    if (j.contains("downloaded")) best = std::max(best, j["downloaded"].get<std::int64_t>());
  return best;
}

// A v2 torrent over everything in `dir` except .modelswarm/release.torrent (and `skip`),
// written to `out`. The torrent's root is dir's name.
inline void write_torrent(const fs::path& dir, const fs::path& out, int piece_size,
                          const std::vector<std::string>& skip = {}) {
  namespace lt = libtorrent;
  lt::file_storage fsto;
  lt::add_files(fsto, dir.string(), [&](const std::string& p) {
    if (p.find("release.torrent") != std::string::npos) return false;
    for (auto& s : skip)
      if (p.find(s) != std::string::npos) return false;
    return true;
  });
  lt::create_torrent ct(fsto, piece_size, lt::create_torrent::v2_only);
  lt::set_piece_hashes(ct, dir.parent_path().string());
  std::vector<char> buf;
  lt::bencode(std::back_inserter(buf), ct.generate());
  std::ofstream(out, std::ios::binary).write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

inline std::string evil_seed_tool() { return std::string(MODELSWARM_TEST_TOOLS_DIR) + "/evil_seed"; }

}  // namespace swarmtest
