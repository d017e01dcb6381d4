// Flags shared by `seed` and `fetch` (session settings) and the rendering of swarm events as a
// TTY status line, plain notes, or JSON lines (--json).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "modelswarm/swarm.hpp"

namespace modelswarm::cli {

struct SwarmFlags {
  std::string profile = "internet";
  std::vector<std::string> listen;
  std::string upload_limit, download_limit;
  bool limit_local = false;
  int max_connections = 0;
  int max_peers = 0;
  int unchoke_slots = 0;
  std::vector<std::string> trackers;
  std::vector<std::string> peers;
  std::optional<bool> dht, lsd;
  std::vector<std::string> dht_bootstrap;
  bool dht_private = false;
  std::string encryption;
  std::string transport;
  std::string disk;
  std::string seed_choking;
  bool super_seed = false;
  bool serve_once = true;
  double status_interval = 0;
  std::vector<std::string> libtorrent_settings;  // --libtorrent NAME=VALUE

  // `listen_flag`: the name of the peer listen option (serve keeps --listen for HTTP).
  void add_to(CLI::App& app, const std::string& listen_flag = "--listen");
  // Applies the profile, then every flag given. Usage errors name the flag.
  Result<swarm::SessionSettings> settings() const;
};

// "20M" -> 20 MiB/s; plain numbers are bytes/s; suffixes K, M, G are powers of 1024.
Result<std::int64_t> parse_rate(const std::string& text, const std::string& flag);

// Renders events: --json => one JSON object per line on stdout; TTY => a status line on
// stderr; otherwise => notes for the notable events only.
class EventPrinter {
 public:
  explicit EventPrinter(const Globals& g) : g_(g) {}
  void operator()(const swarm::Event& e);
  void finish();  // ends the status line
  static nlohmann::json to_json(const swarm::Event& e);

 private:
  void status_line();
  void waiting_line(const swarm::Event& e);
  const Globals& g_;
  std::optional<std::chrono::steady_clock::time_point> waiting_since_;
  std::chrono::steady_clock::time_point next_waiting_line_{};
  std::map<std::string, swarm::Progress> progress_;  // per release name
  bool line_open_ = false;
};

// The start of every swarm command (seed, fetch, mirror): settings from the flags, then
// `adjust` (e.g. peers and trackers from a mirror file), the SIGINT/SIGTERM handler, and a
// session whose events `printer` renders. `printer` must outlive the session.
Result<std::unique_ptr<swarm::Session>> open_swarm_session(
    const SwarmFlags& flags, EventPrinter& printer,
    const std::function<void(swarm::SessionSettings&)>& adjust = {});

}  // namespace modelswarm::cli
