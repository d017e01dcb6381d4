#include "swarm_cli.hpp"

#include <cstdio>

#include "units.hpp"

namespace modelswarm::cli {

using swarm::Event;

void SwarmFlags::add_to(CLI::App& app, const std::string& listen_flag) {
  app.add_option("--profile", profile, "Settings profile: internet (default) or lan (fast LAN/cluster, loopback)")
      ->check(CLI::IsMember({"internet", "lan"}));
  app.add_option(listen_flag, listen, "Listen on IP:PORT (repeatable; port 0 = any free port)");
  app.add_option("--upload-limit", upload_limit, "Upload rate limit, bytes/s (suffix K, M, G)");
  app.add_option("--download-limit", download_limit, "Download rate limit, bytes/s (suffix K, M, G)");
  app.add_flag("--limit-local", limit_local, "Apply the rate limits to LAN and loopback peers too");
  app.add_option("--max-connections", max_connections, "Connection limit for the whole session");
  app.add_option("--max-peers", max_peers, "Connection limit per release");
  app.add_option("--unchoke-slots", unchoke_slots, "Peers served at once (-1 = unlimited)");
  app.add_option("--tracker", trackers, "Announce to this tracker URL (http/https/udp; repeatable)");
  app.add_option("--peer", peers, "Connect to this peer, HOST:PORT (repeatable)");
  // A flag function, not add_flag on the optional: CLI11 2.1 sets an optional<bool> flag to
  // false when neither spelling is given, which turned the profiles' DHT and LSD off.
  app.add_flag_function("--dht,!--no-dht", [this](std::int64_t n) { dht = n > 0; },
                        "Use the DHT (default: on, off with --profile lan)");
  app.add_option("--dht-bootstrap", dht_bootstrap,
                 "Join the DHT through this node, HOST:PORT (repeatable), instead of the public routers");
  app.add_flag("--dht-private", dht_private,
               "The DHT is a private one (cluster, lab): allow many nodes per IP and private or loopback addresses");
  app.add_flag_function("--lsd,!--no-lsd", [this](std::int64_t n) { lsd = n > 0; },
                        "Use local service discovery (default: on)");
  app.add_option("--encryption", encryption, "Peer encryption: enabled, forced or disabled")
      ->check(CLI::IsMember({"enabled", "forced", "disabled"}));
  app.add_option("--transport", transport,
                 "prefer-tcp (connect over TCP, accept uTP too; the default), tcp, utp or both "
                 "(lan profile: tcp)")
      ->check(CLI::IsMember({"prefer-tcp", "tcp", "utp", "both"}));
  app.add_option("--disk-io", disk, "Disk back-end: mmap (default) or posix")
      ->check(CLI::IsMember({"posix", "mmap"}));
  app.add_option("--seed-choking", seed_choking, "Seeding unchoke order: round-robin, fastest or anti-leech")
      ->check(CLI::IsMember({"round-robin", "fastest", "anti-leech"}));
  app.add_flag("--super-seed", super_seed, "Reveal pieces one at a time to each peer (BEP 16)");
  app.add_flag("--serve-once,!--no-serve-once", serve_once,
               "Seeding: serve each piece to one peer and let the others get it from that peer "
               "(default; --no-serve-once serves every request)");
  app.add_option("--status-interval", status_interval, "Seconds between status updates (default 1)");
  app.add_option("--libtorrent", libtorrent_settings,
                 "Set a libtorrent setting, NAME=VALUE (settings_pack names; repeatable), after the "
                 "profile and every other flag: for tuning and experiments");
}

Result<std::int64_t> parse_rate(const std::string& text, const std::string& flag) {
  if (text.empty()) return std::int64_t{0};
  auto v = parse_size(text);
  // libtorrent keeps rates in an int.
  if (!v || *v > 2147483647u)
    return Error::invalid_argument(flag + ": '" + text + "' is not a rate (bytes/s, suffix K, M or G, below 2 GiB/s)");
  return static_cast<std::int64_t>(*v);
}

Result<swarm::SessionSettings> SwarmFlags::settings() const {
  swarm::SessionSettings s = profile == "lan" ? swarm::lan_profile() : swarm::internet_profile();
  if (!listen.empty()) {
    s.listen.clear();
    for (const auto& l : listen) s.listen += (s.listen.empty() ? "" : ",") + l;
  }
  MS_ASSIGN_OR_RETURN(s.upload_rate_limit, parse_rate(upload_limit, "--upload-limit"));
  MS_ASSIGN_OR_RETURN(s.download_rate_limit, parse_rate(download_limit, "--download-limit"));
  s.limit_local_peers = limit_local;
  if (max_connections > 0) s.connections_limit = max_connections;
  if (max_peers > 0) s.max_peers_per_torrent = max_peers;
  if (unchoke_slots != 0) s.unchoke_slots = unchoke_slots;
  s.trackers = trackers;
  s.peers = peers;
  if (dht) s.dht = *dht;
  if (lsd) s.lsd = *lsd;
  s.dht_bootstrap = dht_bootstrap;
  s.dht_private = dht_private;
  if (encryption == "forced") s.encryption = swarm::Encryption::forced;
  if (encryption == "disabled") s.encryption = swarm::Encryption::disabled;
  if (encryption == "enabled") s.encryption = swarm::Encryption::enabled;
  if (transport == "prefer-tcp") s.transport = swarm::Transport::prefer_tcp;
  if (transport == "tcp") s.transport = swarm::Transport::tcp;
  if (transport == "utp") s.transport = swarm::Transport::utp;
  if (transport == "both") s.transport = swarm::Transport::tcp_and_utp;
  if (disk == "posix") s.disk = swarm::DiskBackend::posix;
  if (disk == "mmap") s.disk = swarm::DiskBackend::mmap;
  if (seed_choking == "fastest") s.seed_choking = swarm::SeedChoking::fastest_upload;
  if (seed_choking == "anti-leech") s.seed_choking = swarm::SeedChoking::anti_leech;
  s.super_seeding = super_seed;
  s.serve_once = serve_once;
  if (status_interval > 0) s.status_interval = status_interval;
  s.libtorrent_settings = libtorrent_settings;
  return s;
}

Result<std::unique_ptr<swarm::Session>> open_swarm_session(
    const SwarmFlags& flags, EventPrinter& printer,
    const std::function<void(swarm::SessionSettings&)>& adjust) {
  MS_ASSIGN_OR_RETURN(swarm::SessionSettings settings, flags.settings());
  if (adjust) adjust(settings);
  install_interrupt_handler();
  return swarm::Session::open(settings, [&printer](const swarm::Event& e) { printer(e); });
}

nlohmann::json EventPrinter::to_json(const Event& e) {
  nlohmann::json j = {{"event", swarm::event_kind_name(e.kind)}};
  if (!e.name.empty()) j["name"] = e.name;
  if (!e.info_hash.empty()) j["info_hash"] = e.info_hash;
  if (!e.message.empty()) j["message"] = e.message;
  if (!e.dir.empty()) j["dir"] = e.dir;
  switch (e.kind) {
    case Event::Kind::listening:
      j["port"] = e.port;
      j["peer_id"] = e.peer_id;
      break;
    case Event::Kind::peer: j["endpoint"] = e.endpoint; break;
    case Event::Kind::piece: j["piece"] = e.piece; break;
    case Event::Kind::progress:
    case Event::Kind::done:
    case Event::Kind::error:
    case Event::Kind::stopped: {
      const auto& p = e.progress;
      if (!p.state.empty()) j["state"] = p.state;
      j["total_wanted"] = p.total_wanted;
      j["total_done"] = p.total_done;
      j["downloaded"] = p.payload_downloaded;
      j["uploaded"] = p.payload_uploaded;
      j["download_rate"] = p.download_rate;
      j["upload_rate"] = p.upload_rate;
      j["peers"] = p.peers;
      j["seeds"] = p.seeds;
      j["eta"] = p.eta_seconds;
      j["reused"] = p.reused;
      if (e.kind == Event::Kind::progress && p.state != "seeding") {
        j["peers_known"] = p.peers_known;
        j["trackers"] = p.trackers;
        j["trackers_working"] = p.trackers_working;
        if (!p.tracker_error.empty()) j["tracker_error"] = p.tracker_error;
        j["dht_nodes"] = p.dht_nodes < 0 ? nlohmann::json() : nlohmann::json(p.dht_nodes);
        j["lsd"] = p.lsd;
      }
      break;
    }
    case Event::Kind::reused:
      j["bytes_reused"] = e.reuse.bytes_reused;
      j["bytes_reflinked"] = e.reuse.bytes_reflinked;
      j["chunks_reused"] = e.reuse.chunks_reused;
      j["chunks_rejected"] = e.reuse.chunks_rejected;
      j["expected_download"] = e.reuse.expected_download;
      break;
    default: break;
  }
  if (!e.peers.empty()) {
    nlohmann::json peers = nlohmann::json::array();
    for (const auto& p : e.peers)
      peers.push_back({{"endpoint", p.endpoint}, {"peer_id", p.peer_id}, {"client", p.client},
                       {"downloaded", p.downloaded}, {"uploaded", p.uploaded}});
    j["peer_stats"] = peers;
  }
  if (e.error) j["code"] = error_code_name(e.error->code);
  return j;
}

namespace {

std::string human_eta(std::int64_t s) {
  if (s < 0) return "--:--";
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
  else std::snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

}  // namespace

void EventPrinter::status_line() {
  std::string line;
  for (const auto& [name, p] : progress_) {
    if (!line.empty()) line += " | ";
    if (p.state == "seeding") {
      line += name + ": seeding, " + std::to_string(p.peers) + " peers, up " +
              format_size(p.upload_rate) + "/s, sent " +
              format_size(p.payload_uploaded);
    } else {
      double frac = p.total_wanted > 0 ? static_cast<double>(p.total_done) / static_cast<double>(p.total_wanted) : 0;
      int filled = static_cast<int>(frac * 20);
      line += name + " [" + std::string(static_cast<size_t>(filled), '#') +
              std::string(static_cast<size_t>(20 - filled), '.') + "] " +
              format_size(p.total_done) + "/" +
              format_size(p.total_wanted) + " " +
              format_size(p.download_rate) + "/s " +
              std::to_string(p.peers) + " peers ETA " + human_eta(p.eta_seconds) + " (" + p.state + ")";
      if (p.peers == 0) line += " waiting: " + swarm::describe_waiting(p);
    }
  }
  std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
  std::fflush(stderr);
  line_open_ = true;
}

// Without a terminal there is no status line; a fetch that has no peer says what it waits
// for now and then, so a log shows why nothing happens.
void EventPrinter::waiting_line(const Event& e) {
  const swarm::Progress& p = e.progress;
  auto now = std::chrono::steady_clock::now();
  if (p.peers > 0 || p.state == "seeding" || p.state == "verifying" || p.state == "checking" ||
      p.state == "reusing") {
    waiting_since_.reset();
    return;
  }
  if (!waiting_since_) waiting_since_ = now;
  if (now - *waiting_since_ < std::chrono::seconds(5) || now < next_waiting_line_) return;
  next_waiting_line_ = now + std::chrono::seconds(30);
  std::fprintf(stderr, "%s: waiting for peers (%s): %s\n", e.name.empty() ? e.info_hash.c_str() : e.name.c_str(),
               p.state.c_str(), swarm::describe_waiting(p).c_str());
}

void EventPrinter::finish() {
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
}

void EventPrinter::operator()(const Event& e) {
  if (g_.json) {
    print_json(to_json(e));
    return;
  }
  if (g_.quiet) return;
  if (e.kind == Event::Kind::progress) {
    progress_[e.name.empty() ? "?" : e.name] = e.progress;
    if (g_.stderr_tty) status_line();
    else waiting_line(e);
    return;
  }
  std::string line;
  switch (e.kind) {
    case Event::Kind::listening: line = "listening on port " + std::to_string(e.port); break;
    case Event::Kind::added:
      line = "added " + (e.name.empty() ? e.info_hash : e.name) + (e.dir.empty() ? "" : " (" + e.dir + ")") +
             (e.message.empty() ? "" : ": " + e.message);
      break;
    case Event::Kind::metadata: line = "metadata received: " + e.name; break;
    case Event::Kind::manifest_verified: line = e.name + ": manifest signed by " + e.message + " verified"; break;
    case Event::Kind::channel: line = e.message; break;
    case Event::Kind::peer_banned: line = "banned peer " + e.message + " (sent bad data)"; break;
    case Event::Kind::warning: line = "warning: " + (e.name.empty() ? "" : e.name + ": ") + e.message; break;
    case Event::Kind::reused:
      line = e.name + ": reused " + format_size(e.reuse.bytes_reused) +
             " from local releases, about " + format_size(e.reuse.expected_download) +
             " left to download (" + e.message + ")";
      break;
    case Event::Kind::done:
      line = e.name + ": verified release in " + e.dir + " (reused " +
             format_size(e.progress.reused) + ", downloaded " +
             format_size(e.progress.payload_downloaded) + ")";
      break;
    default: return;  // errors are reported by the command; hash failures are noisy
  }
  if (line_open_) finish();
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace modelswarm::cli
