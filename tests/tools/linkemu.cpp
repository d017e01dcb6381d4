// A user-space link emulator between two TAP devices, for kernels without the netem qdisc.
// Each TAP is created inside a network namespace of its own choosing (setns, then TUNSETIFF:
// the descriptor keeps working after the thread switches back), and Ethernet frames are
// forwarded both ways with, per direction:
//   - a rate (serialisation delay) behind a drop-tail queue bounded in bytes or in ms;
//   - a one-way delay, plus jitter that never reorders frames of one direction;
//   - random loss from a seeded generator.
// Single-threaded: ppoll() on both TAPs with the time of the next due frame as timeout.
// Plain POSIX + C++17; no dependency on the project's library.
//
//   linkemu --a NS_A:IF_A --b NS_B:IF_B [--rate[-ab|-ba] R] [--delay[-ab|-ba] MS]
//           [--jitter[-ab|-ba] MS] [--loss[-ab|-ba] PCT] [--queue[-ab|-ba] Q] [--seed N]
//           [--pidfile F]
// NS is a name under /var/run/netns, a path (/proc/PID/ns/net), or "-" for the current
// namespace. R is in tc units (50mbit, 1gbit, 800kbit, 10mbps = bytes/s, bare number = bit/s;
// 0 = unlimited). Q is bytes (64k, 1m) or a time at the link rate (100ms; default 100ms).
// The TAPs are left down (the caller configures addresses and brings them up); they vanish
// when linkemu exits. The pidfile is written once both TAPs exist (a readiness signal).
// Runs until SIGTERM/SIGINT, then prints per-direction counters to stderr and exits 0.
// Bad flags: one line on stderr, exit 2. Setup failures (namespace, TAP): exit 1.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) { g_stop = 1; }

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "linkemu: %s (linkemu --help)\n", msg.c_str());
  std::exit(2);
}

[[noreturn]] void fatal(const std::string& msg) {
  std::fprintf(stderr, "linkemu: %s\n", msg.c_str());
  std::exit(1);
}

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// A non-negative decimal number followed by nothing but `rest`; false if malformed.
bool parse_number(const std::string& text, double& value, std::string& rest) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtod(text.c_str(), &end);
  if (errno || end == text.c_str() || !std::isfinite(value) || value < 0) return false;
  rest = end;
  for (auto& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

// tc rate units: bit (or bare) = bit/s, kbit/mbit/gbit/tbit (SI), bps/kbps/mbps/gbps = bytes/s.
double parse_rate(const std::string& flag, const std::string& text) {
  double v;
  std::string unit;
  if (!parse_number(text, v, unit)) usage_error(flag + ": '" + text + "' is not a rate");
  struct U { const char* name; double bits; };
  static const U units[] = {{"", 1},        {"bit", 1},    {"kbit", 1e3},  {"mbit", 1e6},
                            {"gbit", 1e9},  {"tbit", 1e12}, {"bps", 8},    {"kbps", 8e3},
                            {"mbps", 8e6},  {"gbps", 8e9}};
  for (const auto& u : units)
    if (unit == u.name) return v * u.bits;
  usage_error(flag + ": '" + text + "' has an unknown rate unit (bit, kbit, mbit, gbit, bps, kbps, mbps)");
}

double parse_ms(const std::string& flag, const std::string& text) {
  double v;
  std::string unit;
  if (!parse_number(text, v, unit) || !(unit.empty() || unit == "ms"))
    usage_error(flag + ": '" + text + "' is not a time in milliseconds");
  if (v > 600000) usage_error(flag + ": '" + text + "' is more than 10 minutes");
  return v;
}

double parse_pct(const std::string& flag, const std::string& text) {
  double v;
  std::string unit;
  if (!parse_number(text, v, unit) || !(unit.empty() || unit == "%") || v > 100)
    usage_error(flag + ": '" + text + "' is not a percentage in 0..100");
  return v;
}

struct QueueLimit {
  bool in_time = true;
  double value = 100;  // ms, or bytes when !in_time
};

QueueLimit parse_queue(const std::string& flag, const std::string& text) {
  double v;
  std::string unit;
  if (!parse_number(text, v, unit)) usage_error(flag + ": '" + text + "' is not a queue limit (bytes or ms)");
  if (unit == "ms") return {true, v};
  if (unit == "" || unit == "b") return {false, v};
  if (unit == "k" || unit == "kb") return {false, v * 1024};
  if (unit == "m" || unit == "mb") return {false, v * 1024 * 1024};
  usage_error(flag + ": '" + text + "' is not a queue limit (e.g. 64k, 1m, 100ms)");
}

struct Endpoint {
  std::string ns;      // name under /var/run/netns, a path, or "-"
  std::string ifname;
};

Endpoint parse_endpoint(const std::string& flag, const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    usage_error(flag + ": '" + text + "' is not NAMESPACE:IFNAME");
  Endpoint e{text.substr(0, colon), text.substr(colon + 1)};
  if (e.ifname.size() >= IFNAMSIZ) usage_error(flag + ": interface name '" + e.ifname + "' is too long");
  if (e.ns != "-" && e.ns.find('/') == std::string::npos &&
      e.ns.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != std::string::npos)
    usage_error(flag + ": '" + e.ns + "' is not a namespace name");
  return e;
}

// Opens a TAP named ifname inside namespace ns; the calling thread returns to its namespace.
int open_tap(const Endpoint& ep) {
  int home = -1, target = -1;
  if (ep.ns != "-") {
    home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) fatal(std::string("open /proc/self/ns/net: ") + std::strerror(errno));
    std::string path = ep.ns.find('/') == std::string::npos ? "/var/run/netns/" + ep.ns : ep.ns;
    target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) fatal("open " + path + ": " + std::strerror(errno));
    if (setns(target, CLONE_NEWNET) != 0) fatal("setns " + path + ": " + std::strerror(errno));
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  int err = errno;
  if (fd >= 0) {
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, ep.ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  if (home >= 0) {
    if (setns(home, CLONE_NEWNET) != 0) fatal(std::string("setns back: ") + std::strerror(errno));
    close(home);
    close(target);
  }
  if (fd < 0) fatal("TAP " + ep.ns + ":" + ep.ifname + ": " + std::strerror(err));
  return fd;
}

struct DirConfig {
  double rate_bps = 0;  // bits/s, 0 = unlimited
  double delay_ms = 0;
  double jitter_ms = 0;
  double loss_pct = 0;
  QueueLimit queue;
};

struct Frame {
  std::int64_t due = 0;     // when it leaves the emulated link
  std::int64_t sent = 0;    // when its last bit is serialised (the queue holds it until then)
  std::vector<unsigned char> data;
};

// One direction: frames read from `in` are written to `out` when due.
struct Direction {
  const char* name;
  DirConfig cfg;
  int in = -1, out = -1;
  std::mt19937_64 rng;
  std::deque<Frame> line;        // in flight, `due` non-decreasing
  std::vector<std::vector<unsigned char>> pool;
  std::int64_t link_free = 0;    // when the serialiser finishes the last accepted frame
  std::int64_t last_due = 0;
  std::int64_t queued_bytes = 0; // accepted but not yet fully serialised
  std::size_t serialised = 0;    // frames at the front of `line` already serialised (accounting)
  // counters
  std::uint64_t frames_in = 0, bytes_in = 0, frames_out = 0, bytes_out = 0;
  std::uint64_t lost = 0, dropped = 0, write_errors = 0;

  std::int64_t queue_limit_bytes() const {
    if (!cfg.queue.in_time) return static_cast<std::int64_t>(cfg.queue.value);
    return static_cast<std::int64_t>(cfg.rate_bps / 8 * cfg.queue.value / 1000);
  }

  // A frame's bytes, in a recycled vector (assign() reuses its capacity: no zero-filling).
  std::vector<unsigned char> copy_of(const unsigned char* p, std::size_t n) {
    std::vector<unsigned char> b;
    if (!pool.empty()) {
      b = std::move(pool.back());
      pool.pop_back();
    }
    b.assign(p, p + n);
    return b;
  }

  // Frames whose serialisation has finished leave the queue's byte count.
  void account(std::int64_t now) {
    while (serialised < line.size() && line[serialised].sent <= now) {
      queued_bytes -= static_cast<std::int64_t>(line[serialised].data.size());
      ++serialised;
    }
  }

  // Reads up to `budget` frames from `in`.
  void read_some(int budget) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    static unsigned char scratch[65536];
    for (int i = 0; i < budget; ++i) {
      ssize_t n = read(in, scratch, sizeof scratch);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        fatal(std::string("read ") + name + ": " + std::strerror(errno));
      }
      if (n == 0) return;
      std::int64_t now = now_ns();
      ++frames_in;
      bytes_in += static_cast<std::uint64_t>(n);
      if (cfg.loss_pct > 0 && unit(rng) * 100 < cfg.loss_pct) {
        ++lost;
        continue;
      }
      std::int64_t sent = now;
      if (cfg.rate_bps > 0) {
        account(now);
        // Drop-tail: the frame is refused when the bytes waiting for the serialiser (this one
        // included) exceed the limit; one frame is always accepted on an idle link.
        if (queued_bytes > 0 && queued_bytes + n > queue_limit_bytes()) {
          ++dropped;
          continue;
        }
        std::int64_t start = std::max(now, link_free);
        sent = start + static_cast<std::int64_t>(static_cast<double>(n) * 8 * 1e9 / cfg.rate_bps);
        link_free = sent;
      }
      queued_bytes += n;
      double d = cfg.delay_ms;
      if (cfg.jitter_ms > 0) d += (unit(rng) * 2 - 1) * cfg.jitter_ms;
      std::int64_t due = sent + static_cast<std::int64_t>(std::max(0.0, d) * 1e6);
      due = std::max(due, last_due);  // jitter never reorders a direction
      last_due = due;
      line.push_back(Frame{due, sent, copy_of(scratch, static_cast<std::size_t>(n))});
    }
  }

  // Writes every frame that is due.
  void deliver(std::int64_t now) {
    account(now);
    while (!line.empty() && line.front().due <= now) {
      Frame& f = line.front();
      ssize_t n = write(out, f.data.data(), f.data.size());
      if (n < 0) ++write_errors;
      else {
        ++frames_out;
        bytes_out += f.data.size();
      }
      if (serialised > 0) --serialised;
      else queued_bytes -= static_cast<std::int64_t>(f.data.size());  // due before sent: cannot happen, kept consistent
      if (pool.size() < 1024) pool.push_back(std::move(f.data));
      line.pop_front();
    }
  }

  std::int64_t next_due() const { return line.empty() ? -1 : line.front().due; }

  void report() const {
    std::fprintf(stderr,
                 "linkemu %s: frames in %" PRIu64 " out %" PRIu64 ", bytes in %" PRIu64 " out %" PRIu64
                 ", lost %" PRIu64 " (random), dropped %" PRIu64 " (queue), write errors %" PRIu64
                 ", in flight %zu\n",
                 name, frames_in, frames_out, bytes_in, bytes_out, lost, dropped, write_errors, line.size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  Endpoint a, b;
  bool have_a = false, have_b = false;
  DirConfig ab, ba;
  std::uint64_t seed = 1;
  std::string pidfile;

  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage_error(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    std::string v;
    auto eq = f.find('=');
    if (f.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = f.substr(eq + 1);
      f = f.substr(0, eq);
    } else if (f == "-h" || f == "--help") {
      std::fprintf(stderr,
                   "usage: linkemu --a NS_A:IF_A --b NS_B:IF_B [--rate[-ab|-ba] R] [--delay[-ab|-ba] MS]\n"
                   "               [--jitter[-ab|-ba] MS] [--loss[-ab|-ba] PCT] [--queue[-ab|-ba] BYTES|MSms]\n"
                   "               [--seed N] [--pidfile FILE]\n");
      return 0;
    } else if (f.rfind("--", 0) == 0) {
      v = value(i);
    } else {
      usage_error("unexpected argument '" + f + "'");
    }
    // --x applies to both directions, --x-ab / --x-ba to one.
    auto both = [&](const std::string& base, auto setter) {
      if (f == "--" + base) { setter(ab, "--" + base); setter(ba, "--" + base); return true; }
      if (f == "--" + base + "-ab") { setter(ab, f); return true; }
      if (f == "--" + base + "-ba") { setter(ba, f); return true; }
      return false;
    };
    if (f == "--a") { a = parse_endpoint(f, v); have_a = true; }
    else if (f == "--b") { b = parse_endpoint(f, v); have_b = true; }
    else if (f == "--seed") {
      char* end = nullptr;
      errno = 0;
      seed = std::strtoull(v.c_str(), &end, 10);
      if (errno || v.empty() || *end) usage_error("--seed: '" + v + "' is not an integer");
    } else if (f == "--pidfile") {
      if (v.empty()) usage_error("--pidfile needs a path");
      pidfile = v;
    }
    else if (both("rate", [&](DirConfig& d, const std::string& n) { d.rate_bps = parse_rate(n, v); })) {}
    else if (both("delay", [&](DirConfig& d, const std::string& n) { d.delay_ms = parse_ms(n, v); })) {}
    else if (both("jitter", [&](DirConfig& d, const std::string& n) { d.jitter_ms = parse_ms(n, v); })) {}
    else if (both("loss", [&](DirConfig& d, const std::string& n) { d.loss_pct = parse_pct(n, v); })) {}
    else if (both("queue", [&](DirConfig& d, const std::string& n) { d.queue = parse_queue(n, v); })) {}
    else usage_error("unknown flag '" + f + "'");
  }
  if (!have_a || !have_b) usage_error("--a and --b are required");
  if (a.ns == b.ns && a.ifname == b.ifname) usage_error("--a and --b name the same interface");

  // Signals are blocked except inside ppoll(), so a SIGTERM can never be missed between checks.
  sigset_t block, empty;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, nullptr);
  sigemptyset(&empty);
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // 1 ns: wake when the next frame is due

  int fa = open_tap(a);
  int fb = open_tap(b);

  Direction dab{"a->b", ab, fa, fb, std::mt19937_64(seed), {}, {}, 0, 0, 0, 0};
  Direction dba{"b->a", ba, fb, fa, std::mt19937_64(seed ^ 0x9e3779b97f4a7c15ULL), {}, {}, 0, 0, 0, 0};

  if (!pidfile.empty()) {
    std::string tmp = pidfile + ".tmp";
    FILE* p = std::fopen(tmp.c_str(), "w");
    if (!p) fatal("pidfile " + tmp + ": " + std::strerror(errno));
    std::fprintf(p, "%d\n", static_cast<int>(getpid()));
    std::fclose(p);
    if (std::rename(tmp.c_str(), pidfile.c_str()) != 0) fatal("pidfile " + pidfile + ": " + std::strerror(errno));
  }

  pollfd fds[2] = {{fa, POLLIN, 0}, {fb, POLLIN, 0}};
  while (!g_stop) {
    std::int64_t now = now_ns();
    dab.deliver(now);
    dba.deliver(now);
    std::int64_t next = -1;
    for (std::int64_t d : {dab.next_due(), dba.next_due()})
      if (d >= 0 && (next < 0 || d < next)) next = d;
    timespec ts{}, *tp = nullptr;
    if (next >= 0) {
      std::int64_t wait = std::max<std::int64_t>(0, next - now_ns());
      ts.tv_sec = static_cast<time_t>(wait / 1000000000LL);
      ts.tv_nsec = static_cast<long>(wait % 1000000000LL);
      tp = &ts;
    }
    int n = ppoll(fds, 2, tp, &empty);
    if (n < 0) {
      if (errno == EINTR) continue;
      fatal(std::string("ppoll: ") + std::strerror(errno));
    }
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) fatal("TAP " + a.ifname + " went away");
    if (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL)) fatal("TAP " + b.ifname + " went away");
    // A bounded batch per side per round keeps both directions served under load.
    if (fds[0].revents & POLLIN) dab.read_some(64);
    if (fds[1].revents & POLLIN) dba.read_some(64);
  }

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  dab.report();
  dba.report();
  std::fprintf(stderr, "linkemu: cpu user %.2f s, system %.2f s\n",
               static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6,
               static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6);
  close(fa);
  close(fb);
  if (!pidfile.empty()) unlink(pidfile.c_str());
  return 0;
}
