// The swarm on hosts with links of their own (scripts/netlab.sh): four network namespaces on a
// bridge, every link capped with htb, peers that find each other only through local service
// discovery (multicast across the bridge), never through --peer. Needs root and `ip netns`;
// reports and skips without them. The whole case is bounded at 60 s.
#include <doctest/doctest.h>
#include <unistd.h>

#include <map>
#include <sstream>
#include <thread>

#include "swarm_helpers.hpp"

using namespace swarmtest;

namespace {

using Clock = std::chrono::steady_clock;

std::string netlab_script() { return std::string(MODELSWARM_SOURCE_DIR) + "/scripts/netlab.sh"; }

std::string find_tool(const char* name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

// Why the lab cannot run here, or "" when it can.
std::string lab_unavailable() {
  if (geteuid() != 0) return "not running as root";
  if (find_tool("ip").empty() || find_tool("tc").empty()) return "ip or tc (iproute2) is not installed";
  auto r = mstest::run({find_tool("ip"), "netns", "list"}, std::chrono::seconds(10));
  if (r.exit_code != 0) return "`ip netns list` failed: " + r.err;
  return {};
}

// A lab brought up by `netlab.sh up` and always torn down by `netlab.sh down` (RAII), which
// stops every process left in its namespaces by pid and deletes them.
class Lab {
 public:
  Lab(const std::string& prefix, const std::vector<std::string>& specs) : prefix_(prefix) {
    std::vector<std::string> argv{"bash", netlab_script(), "up", prefix};
    argv.insert(argv.end(), specs.begin(), specs.end());
    auto r = mstest::run(argv, std::chrono::seconds(60));
    up_ = true;  // even a failed `up` may have left something for `down`
    REQUIRE_MESSAGE(r.exit_code == 0, "netlab.sh up: " << r.err);
    std::istringstream lines(r.out);
    std::string name, ip;
    while (lines >> name >> ip) ip_[name] = ip;
  }
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;
  ~Lab() {
    if (!up_) return;
    auto r = mstest::run({"bash", netlab_script(), "down", prefix_}, std::chrono::seconds(60));
    if (r.exit_code != 0) MESSAGE("netlab.sh down " << prefix_ << ": " << r.err);
  }

  std::string ip(const std::string& host) const {
    auto it = ip_.find(host);
    return it == ip_.end() ? std::string() : it->second;
  }
  // argv run inside the host's namespace with a MODELSWARM_HOME of its own.
  std::vector<std::string> cli_in(const std::string& host, const fs::path& home,
                                  const std::vector<std::string>& args) const {
    std::vector<std::string> v{find_tool("ip"), "netns", "exec", prefix_ + "-" + host, "env",
                               "MODELSWARM_HOME=" + home.string(), MODELSWARM_CLI};
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }

 private:
  std::string prefix_;
  bool up_ = false;
  std::map<std::string, std::string> ip_;
};

// Peer flags inside the lab: the lan profile, default listen (0.0.0.0:6881 in each namespace),
// no DHT and no --peer: local service discovery, on by default, is how the peers meet (this
// also covers the default: CLI11 once turned LSD off when neither --lsd nor --no-lsd was given).
std::vector<std::string> lab_flags() {
  return {"--json", "--profile", "lan", "--no-dht", "--status-interval", "0.2"};
}

std::string listening_peer_id(mstest::Background& p, std::chrono::seconds timeout) {
  if (!p.wait_for_output("\"listening\"", timeout)) return {};
  auto ev = events(p.out(), "listening");
  return ev.empty() ? std::string() : ev[0].value("peer_id", "");
}

std::chrono::seconds left(Clock::time_point deadline) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now());
  return std::max(s, std::chrono::seconds(1));
}

}  // namespace

TEST_CASE("netlab: 1 seeder and 3 leechers on capped links find each other by LSD and trade pieces") {
  if (std::string why = lab_unavailable(); !why.empty()) {
    MESSAGE("skipped: the network lab needs root and ip netns (" << why << ")");
    return;
  }
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(60);
  Home home;
  mstest::TempDir tmp;
  // 16 MiB in 256 KiB pieces: enough pieces for the leechers to trade. Sanitized builds are
  // slower in CPU, not on the wire: the links are the bottleneck, so the size stays.
  Release r = make_release(tmp / "pub", {.name = "netlab-model", .size = 16 << 20, .piece_size = 256 << 10});

  // 50 Mbit/s each way on every host: the seeder's uplink (6.25 MB/s) is the narrowest pipe
  // for three leechers, who have 150 Mbit/s of uplink between them.
  const std::string prefix = "ct" + std::to_string(getpid());
  Lab lab(prefix, {"s:50mbit:50mbit", "l1:50mbit:50mbit", "l2:50mbit:50mbit", "l3:50mbit:50mbit"});
  REQUIRE(lab.ip("s") == "10.77.0.1");

  std::vector<std::string> seed_args{"seed", r.dir.string(), "--trust", r.public_key};
  for (auto& f : lab_flags()) seed_args.push_back(f);
  mstest::Background seeder(lab.cli_in("s", tmp / "home-s", seed_args), (tmp / "seed").string());
  std::string seeder_id = listening_peer_id(seeder, left(deadline));
  REQUIRE_MESSAGE(!seeder_id.empty(), seeder.err());
  // Leechers announce three times in their first 6 s; the seeder must hold the release by then.
  REQUIRE_MESSAGE(seeder.wait_for_output("\"state\":\"seeding\"", left(deadline)), seeder.err());

  const std::vector<std::string> names{"l1", "l2", "l3"};
  std::vector<std::unique_ptr<mstest::Background>> leechers;
  for (const auto& n : names) {
    std::vector<std::string> args{"fetch", r.magnet, "-o", (tmp / ("out-" + n)).string(), "--trust",
                                  r.public_key, "--seed"};
    for (auto& f : lab_flags()) args.push_back(f);
    leechers.push_back(std::make_unique<mstest::Background>(lab.cli_in(n, tmp / ("home-" + n), args),
                                                            (tmp / n).string()));
  }
  std::map<std::string, std::string> ids;  // peer id -> host
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string id = listening_peer_id(*leechers[i], left(deadline));
    REQUIRE_MESSAGE(!id.empty(), names[i] << ": " << leechers[i]->err());
    ids[id] = names[i];
  }

  // Every leecher keeps seeding after its done event until all are done.
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO(names[i], " stderr: ", leechers[i]->err());
    INFO(names[i], " stdout tail: ", leechers[i]->out().substr(leechers[i]->out().size() > 2000 ? leechers[i]->out().size() - 2000 : 0));
    REQUIRE(leechers[i]->wait_for_output("\"event\":\"done\"", left(deadline - std::chrono::seconds(5))));
  }
  const double fan_out_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO(names[i], ": ", leechers[i]->err());
    CHECK(leechers[i]->stop(SIGTERM, std::chrono::seconds(5)) == 130);
  }
  CHECK(seeder.stop(SIGTERM, std::chrono::seconds(5)) == 130);

  std::int64_t from_seeder = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    INFO(n, ": ", leechers[i]->err());
    auto done = events(leechers[i]->out(), "done");
    REQUIRE(done.size() == 1);
    fs::path got = tmp / ("out-" + n) / r.name;
    CHECK(done[0]["dir"] == got.string());
    CHECK(same_bytes(r.dir / "model.bin", got / "model.bin"));
    CHECK(same_bytes(r.dir / "sub" / "tokenizer.bin", got / "sub" / "tokenizer.bin"));
    CHECK(!fs::exists(tmp / ("out-" + n) / ".modelswarm-partial"));
    // Payload by remote peer id: some of it came over this host's link from another leecher.
    std::int64_t from_leechers = 0;
    std::string seen;
    for (auto& p : done[0].value("peer_stats", json::array())) {
      std::string pid = p.value("peer_id", "");
      std::int64_t down = p.value("downloaded", std::int64_t{0});
      seen += p.value("endpoint", "?") + "=" + std::to_string(down) + " ";
      if (pid == seeder_id) from_seeder += down;
      else if (ids.count(pid) && ids[pid] != n) from_leechers += down;
    }
    INFO(n, " received: ", seen);
    CHECK(from_leechers > 0);
  }
  MESSAGE("netlab fan-out: 3 x " << (r.size >> 20) << " MiB over 50 Mbit/s links in " << fan_out_s
                                 << " s (lab up included); the seeder sent "
                                 << static_cast<double>(from_seeder) / static_cast<double>(r.size)
                                 << "x the release");
  CHECK(Clock::now() < deadline);
}
