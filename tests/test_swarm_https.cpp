// Release URLs over https (libcurl) against a real nginx on loopback, with a private CA made by
// the openssl CLI for each test: --cacert, TLS failures, redirects, proxies from the
// environment, IPv6 literals, and a server that stalls or sends too much.
#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <optional>
#include <thread>

#include "modelswarm/swarm.hpp"
#include "swarm_helpers.hpp"

using namespace swarmtest;

namespace {

// A CA and a server certificate it signed, for 127.0.0.1 and ::1.
struct TestPki {
  fs::path ca, cert, key;
};

TestPki make_pki(const fs::path& dir, const std::string& san = "IP:127.0.0.1,IP:::1") {
  fs::create_directories(dir);
  TestPki p{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                       "-nodes", "-days", "2"};
  auto with = [&](std::vector<std::string> a) {
    a.insert(a.begin() + 2, ec.begin(), ec.end());
    return a;
  };
  auto ca = mstest::run(with({"openssl", "req", "-x509", "-keyout", (dir / "ca.key").string(), "-out",
                              p.ca.string(), "-subj", "/CN=modelswarm test CA"}), 30s);
  REQUIRE_MESSAGE(ca.exit_code == 0, ca.err);
  auto leaf = mstest::run(with({"openssl", "req", "-x509", "-keyout", p.key.string(), "-out", p.cert.string(),
                                "-subj", "/CN=modelswarm test server", "-CA", p.ca.string(), "-CAkey",
                                (dir / "ca.key").string(), "-addext", "subjectAltName=" + san, "-addext",
                                "basicConstraints=critical,CA:FALSE"}), 30s);
  REQUIRE_MESSAGE(leaf.exit_code == 0, leaf.err);
  return p;
}

// Proxy variables as the test sets them, restored afterwards; a proxy configured on the host
// running the tests must not route loopback requests elsewhere.
struct ProxyEnv {
  static constexpr const char* kNames[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                           "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  explicit ProxyEnv(const std::vector<std::pair<std::string, std::string>>& set = {}) {
    for (const char* n : kNames) {
      const char* v = std::getenv(n);
      saved.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      unsetenv(n);
    }
    for (auto& [k, v] : set) setenv(k.c_str(), v.c_str(), 1);
  }
  ~ProxyEnv() {
    for (auto& [k, v] : saved) {
      if (v) setenv(k.c_str(), v->c_str(), 1);
      else unsetenv(k.c_str());
    }
  }
};

// Fetch arguments for a release URL; --no-reuse so that every byte comes over the network.
std::vector<std::string> url_fetch(const std::string& url, const Release& r, const fs::path& out,
                                   std::vector<std::string> extra = {}) {
  extra.push_back("--no-reuse");
  return fetch_args(url, r.public_key, out, extra);
}

std::int64_t from_port(const json& done, int port) {
  std::int64_t n = 0;
  for (auto& p : done.value("peer_stats", json::array()))
    if (p["endpoint"] == peer_arg(port) || p["endpoint"] == "[::1]:" + std::to_string(port))
      n += p["downloaded"].get<std::int64_t>();
  return n;
}

void check_fetched(const mstest::ProcessResult& res, const Release& r, const fs::path& out) {
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  CHECK(same_bytes(r.dir / "model.bin", out / r.name / "model.bin"));
  auto v = mstest::run_cli({"verify", (out / r.name).string(), "--trust", r.public_key}, 60s);
  INFO(v.err);
  CHECK(v.exit_code == 0);
}

// A TCP server on 127.0.0.1 that runs `serve` on each connection, one at a time, in a thread.
struct RawServer {
  using Serve = std::function<void(int fd, const std::atomic<bool>& done)>;
  int fd = -1;
  int port = 0;
  std::atomic<bool> done{false};
  std::thread thread;
  explicit RawServer(Serve serve) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd, 8) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([this, serve] {
      while (true) {
        int c = accept(fd, nullptr, nullptr);
        if (c < 0 || done) {
          if (c >= 0) close(c);
          return;
        }
        serve(c, done);
        close(c);
      }
    });
  }
  ~RawServer() {
    done = true;
    shutdown(fd, SHUT_RDWR);
    wait_port(port, 1s);  // wakes accept() where shutdown does not
    thread.join();
    close(fd);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/release/"; }
};

// Keeps a connection open without sending, until the test is over (at most `limit`).
void hold(const std::atomic<bool>& done, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
}

// Reads the request head, so that the client is waiting for the response.
void read_request(int c) {
  std::string head;
  char buf[1024];
  while (head.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

TEST_CASE("https release URL: a private CA with --cacert; without it a TLS error, exit 5") {
  Home home;
  ProxyEnv no_proxies;
  mstest::TempDir tmp;
  TestPki pki = make_pki(tmp / "pki");
  TestPki other = make_pki(tmp / "other-pki");
  Nginx nginx(tmp / "nginx", tmp / "pub", {.cert = pki.cert, .key = pki.key});
  Release r = make_release(tmp / "pub", {.name = "secured", .size = scaled(4 << 20)});
  const std::string url = nginx.url() + r.name + "/";

  auto untrusted = mstest::run_cli(url_fetch(url, r, tmp / "out1"), 60s);
  CHECK(untrusted.exit_code == 5);
  CHECK(untrusted.err.find(url + ".modelswarm/release.torrent: TLS certificate verification failed") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(tmp / "out1" / r.name));

  auto wrong_ca = mstest::run_cli(url_fetch(url, r, tmp / "out2", {"--cacert", other.ca.string()}), 60s);
  CHECK(wrong_ca.exit_code == 5);
  CHECK(wrong_ca.err.find("TLS certificate verification failed") != std::string::npos);

  auto missing_ca =
      mstest::run_cli(url_fetch(url, r, tmp / "out3", {"--cacert", (tmp / "nope.pem").string()}), 60s);
  CHECK(missing_ca.exit_code == 6);
  CHECK(missing_ca.err.find("nope.pem: cannot read the CA certificate file") != std::string::npos);

  // The .torrent comes through libcurl, the model data from the same server as an https web
  // seed (libtorrent, told about the CA too).
  auto res = mstest::run_cli(url_fetch(url, r, tmp / "out", {"--cacert", pki.ca.string()}), 60s);
  check_fetched(res, r, tmp / "out");
  auto done = events(res.out, "done");
  REQUIRE(done.size() == 1);
  CHECK(from_port(done[0], nginx.port) > static_cast<std::int64_t>(r.size / 2));

  auto missing = mstest::run_cli(url_fetch(nginx.url() + "no-such-release/", r, tmp / "out4",
                                           {"--cacert", pki.ca.string()}), 60s);
  CHECK(missing.exit_code == 5);
  CHECK(missing.err.find("no-such-release/.modelswarm/release.torrent: HTTP 404") != std::string::npos);
}

TEST_CASE("release URL redirects: 301 and 302 are followed; a loop and other schemes are refused") {
  Home home;
  ProxyEnv no_proxies;
  mstest::TempDir tmp;
  TestPki pki = make_pki(tmp / "pki");
  Nginx nginx(tmp / "nginx", tmp / "www",
              {.cert = pki.cert,
               .key = pki.key,
               .directives = "    location /moved/ { rewrite ^/moved/(.*)$ /releases/$1 permanent; }\n"
                             "    location /found/ { rewrite ^/found/(.*)$ /releases/$1 redirect; }\n"
                             "    location /loop/ { rewrite ^(.*)$ $1 redirect; }\n"
                             "    location /elsewhere/ { return 302 ftp://127.0.0.1/x; }\n"});
  Release r = make_release(tmp / "www" / "releases", {.name = "relocated", .size = scaled(2 << 20)});
  const std::vector<std::string> ca = {"--cacert", pki.ca.string()};

  for (std::string from : {"moved", "found"}) {
    INFO("redirect from /" << from << "/");
    auto res = mstest::run_cli(url_fetch(nginx.url() + from + "/" + r.name + "/", r, tmp / from, ca), 60s);
    check_fetched(res, r, tmp / from);
  }
  // The web seed is where the .torrent was found, not where the redirect started.
  std::string log = mstest::read_file((tmp / "nginx" / "logs" / "access.log").string());
  CHECK(log.find("GET /releases/" + r.name + "/model.bin") != std::string::npos);
  CHECK(log.find("GET /moved/" + r.name + "/model.bin") == std::string::npos);

  auto loop = mstest::run_cli(url_fetch(nginx.url() + "loop/" + r.name + "/", r, tmp / "loop", ca), 60s);
  CHECK(loop.exit_code == 5);
  CHECK(loop.err.find("more than 5 redirects") != std::string::npos);
  auto ftp = mstest::run_cli(url_fetch(nginx.url() + "elsewhere/" + r.name + "/", r, tmp / "ftp", ca), 60s);
  CHECK(ftp.exit_code == 5);
  CHECK(ftp.err.find("redirected to ftp://127.0.0.1/x") != std::string::npos);
}

TEST_CASE("release URL through the environment's proxy settings: HTTPS_PROXY, unless NO_PROXY") {
  Home home;
  mstest::TempDir tmp;
  TestPki pki = make_pki(tmp / "pki");
  Nginx nginx(tmp / "nginx", tmp / "pub", {.cert = pki.cert, .key = pki.key});
  Release r = make_release(tmp / "pub", {.name = "proxied", .size = scaled(1 << 20)});
  const std::string url = nginx.url() + r.name + "/";
  const std::vector<std::string> ca = {"--cacert", pki.ca.string()};
  // Nothing listens there: a request that goes through the proxy fails to connect to it.
  const std::string dead_proxy = "http://127.0.0.1:" + std::to_string(free_port());
  {
    ProxyEnv env({{"HTTPS_PROXY", dead_proxy}});
    auto res = mstest::run_cli(url_fetch(url, r, tmp / "out1", ca), 60s);
    CHECK(res.exit_code == 5);
    CHECK(res.err.find(dead_proxy.substr(dead_proxy.rfind(':') + 1)) != std::string::npos);
  }
  {
    ProxyEnv env({{"HTTPS_PROXY", dead_proxy}, {"NO_PROXY", "127.0.0.1"}});
    check_fetched(mstest::run_cli(url_fetch(url, r, tmp / "out2", ca), 60s), r, tmp / "out2");
  }
}

TEST_CASE("an IPv6 literal release URL (https://[::1]:PORT/NAME/)") {
  Home home;
  ProxyEnv no_proxies;
  mstest::TempDir tmp;
  TestPki pki = make_pki(tmp / "pki");
  Nginx nginx(tmp / "nginx", tmp / "pub", {.cert = pki.cert, .key = pki.key, .ipv6 = true});
  Release r = make_release(tmp / "pub", {.name = "six", .size = scaled(2 << 20)});
  // libtorrent 2.0.8 sends "Host: ::1" (no brackets) to an IPv6-literal web seed, which nginx
  // answers with 400 (README: sources); the model data comes from a peer here.
  Peer seeder = start_seed({r.dir}, tmp / "seed");
  auto res = mstest::run_cli(url_fetch(nginx.url6() + r.name + "/", r, tmp / "out",
                                       {"--cacert", pki.ca.string(), "--peer", peer_arg(seeder.port)}), 60s);
  check_fetched(res, r, tmp / "out");
  std::string log = mstest::read_file((tmp / "nginx" / "logs" / "access.log").string());
  CHECK(log.find("::1 - - ") != std::string::npos);
  CHECK(log.find("GET /" + r.name + "/.modelswarm/release.torrent HTTP/1.1\" 200") != std::string::npos);
  CHECK(seeder.proc.stop(SIGINT) == 130);
}

TEST_CASE("mirror --cacert: an https release URL in a mirror file") {
  Home home;
  ProxyEnv no_proxies;
  mstest::TempDir tmp;
  TestPki pki = make_pki(tmp / "pki");
  Nginx nginx(tmp / "nginx", tmp / "pub", {.cert = pki.cert, .key = pki.key});
  Release r = make_release(tmp / "pub", {.name = "mirrored-https", .size = scaled(1 << 20)});
  fs::path file = tmp / "mirror.json";
  mstest::write_file(file.string(), json{{"format", "modelswarm.mirror/1"},
                                         {"releases", {{{"source", nginx.url() + r.name + "/"},
                                                        {"trust", r.public_key},
                                                        {"dest", "models"}}}}}
                                        .dump());
  std::vector<std::string> args{"mirror", file.string()};
  for (auto& f : lan_flags()) args.push_back(f);
  auto untrusted = mstest::run_cli(args, 60s);
  CHECK(untrusted.exit_code == 5);
  args.push_back("--cacert");
  args.push_back(pki.ca.string());
  auto res = mstest::run_cli(args, 60s);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  CHECK(same_bytes(r.dir / "model.bin", tmp / "models" / r.name / "model.bin"));
}

TEST_CASE("a release URL's server that stalls, sends too much, or outlives a stop request") {
  ProxyEnv no_proxies;
  modelswarm::swarm::HttpOptions http;
  http.stall_timeout = std::chrono::seconds(2);

  SUBCASE("headers, then no body: the stall timeout ends it") {
    RawServer server([](int c, const std::atomic<bool>& done) {
      read_request(c);
      std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
      send(c, head.data(), head.size(), MSG_NOSIGNAL);
      hold(done, 20s);
    });
    // The server would close after 20 s (a different error): the message shows which came first.
    auto r = modelswarm::swarm::source_info_hash(server.url(), http);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == modelswarm::ErrorCode::network);
    CHECK(r.error().message.find("stalled: under 1 byte/s for 2 s") != std::string::npos);
  }
  SUBCASE("a chunked body without end: cut at the size limit") {
    RawServer server([](int c, const std::atomic<bool>&) {
      read_request(c);
      std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      send(c, head.data(), head.size(), MSG_NOSIGNAL);
      std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
      for (int i = 0; i < 2000; ++i)  // 128 MiB at most, twice the limit
        if (send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) return;
    });
    auto r = modelswarm::swarm::source_info_hash(server.url(), http);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == modelswarm::ErrorCode::format);
    CHECK(r.error().message.find("response larger than") != std::string::npos);
  }
  SUBCASE("a stop request ends the wait at once") {
    RawServer server([](int c, const std::atomic<bool>& done) {
      read_request(c);
      hold(done, 20s);
    });
    http.stall_timeout = std::chrono::seconds(30);
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
      std::this_thread::sleep_for(300ms);
      stop = true;
    });
    // Neither the 30 s stall timeout nor the server's close after 20 s may come first.
    auto r = modelswarm::swarm::source_info_hash(server.url(), http, &stop);
    stopper.join();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == modelswarm::ErrorCode::interrupted);
  }
}
