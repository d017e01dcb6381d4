// SessionSettings -> libtorrent settings_pack, and the two documented profiles.
#include "settings.hpp"

#include <libtorrent/alert.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/settings_pack.hpp>

#include <algorithm>
#include <charconv>

#include "util/parallel_jobs.hpp"

namespace modelswarm::swarm {

SessionSettings internet_profile() { return SessionSettings{}; }

SessionSettings lan_profile() {
  SessionSettings s;
  s.transport = Transport::tcp;
  s.dht = false;
  s.lsd = true;
  s.fast_links = true;
  s.disk = DiskBackend::mmap;
  s.connections_limit = 500;
  s.unchoke_slots = -1;  // on a LAN every interested peer may download at once
  return s;
}

namespace {

Status apply_libtorrent_setting(const std::string& item, lt::settings_pack& p) {
  using sp = lt::settings_pack;
  const size_t eq = item.find('=');
  const std::string name = item.substr(0, eq);
  const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
  auto bad = [&](const std::string& why) { return Error::invalid_argument("libtorrent setting '" + item + "': " + why); };
  if (eq == std::string::npos || name.empty()) return bad("expected NAME=VALUE");
  const int id = lt::setting_by_name(name);
  if (id < 0) return bad("libtorrent 2.0 has no setting of that name");
  switch (id & sp::type_mask) {
    case sp::string_type_base: p.set_str(id, value); return {};
    case sp::bool_type_base:
      if (value == "true" || value == "1") p.set_bool(id, true);
      else if (value == "false" || value == "0") p.set_bool(id, false);
      else return bad("expected true or false");
      return {};
    default: {
      int v = 0;
      const char* end = value.data() + value.size();
      auto [ptr, ec] = std::from_chars(value.data(), end, v);
      if (value.empty() || ec != std::errc() || ptr != end) return bad("expected an integer");
      p.set_int(id, v);
      return {};
    }
  }
}

}  // namespace

Result<lt::settings_pack> to_settings_pack(const SessionSettings& s, const std::string& peer_id) {
  using sp = lt::settings_pack;
  sp p;
  p.set_str(sp::listen_interfaces, s.listen);
  p.set_str(sp::user_agent, std::string("modelswarm/") + MODELSWARM_VERSION);
  p.set_str(sp::peer_fingerprint, peer_id);  // 20 bytes: used verbatim as the peer id
  p.set_int(sp::alert_mask, lt::alert_category::error | lt::alert_category::status |
                                lt::alert_category::storage | lt::alert_category::peer |
                                lt::alert_category::connect | lt::alert_category::piece_progress |
                                lt::alert_category::tracker | lt::alert_category::file_progress |
                                lt::alert_category::block_progress | lt::alert_category::dht);
  p.set_int(sp::alert_queue_size, 10000);
  p.set_int(sp::upload_rate_limit, static_cast<int>(s.upload_rate_limit));
  p.set_int(sp::download_rate_limit, static_cast<int>(s.download_rate_limit));
  p.set_int(sp::connections_limit, s.connections_limit);
  p.set_int(sp::unchoke_slots_limit, s.unchoke_slots);
  p.set_bool(sp::enable_dht, s.dht);
  if (!s.dht_bootstrap.empty()) {
    std::string nodes;
    for (const auto& n : s.dht_bootstrap) nodes += (nodes.empty() ? "" : ",") + n;
    p.set_str(sp::dht_bootstrap_nodes, nodes);
  }
  if (s.dht_private) {
    p.set_bool(sp::dht_restrict_routing_ips, false);
    p.set_bool(sp::dht_restrict_search_ips, false);
    p.set_bool(sp::dht_ignore_dark_internet, false);
    p.set_bool(sp::dht_enforce_node_id, false);
    p.set_bool(sp::dht_prefer_verified_node_ids, false);
  }
  p.set_bool(sp::enable_lsd, s.lsd);
  p.set_bool(sp::enable_upnp, false);    // never open ports on the user's router unasked
  p.set_bool(sp::enable_natpmp, false);
  p.set_bool(sp::enable_outgoing_utp, s.transport == Transport::tcp_and_utp || s.transport == Transport::utp);
  p.set_bool(sp::enable_incoming_utp, s.transport != Transport::tcp);
  p.set_bool(sp::enable_outgoing_tcp, s.transport != Transport::utp);
  p.set_bool(sp::enable_incoming_tcp, s.transport != Transport::utp);
  int enc = s.encryption == Encryption::forced     ? sp::pe_forced
            : s.encryption == Encryption::disabled ? sp::pe_disabled
                                                   : sp::pe_enabled;
  p.set_int(sp::out_enc_policy, enc);
  p.set_int(sp::in_enc_policy, enc);
  p.set_int(sp::allowed_enc_level, sp::pe_both);
  p.set_int(sp::seed_choking_algorithm, s.seed_choking == SeedChoking::fastest_upload
                                            ? sp::fastest_upload
                                        : s.seed_choking == SeedChoking::anti_leech
                                            ? sp::anti_leech
                                            : sp::round_robin);
  // Several modelswarm peers on one host (tests, containers behind one NAT) must all connect.
  p.set_bool(sp::allow_multiple_connections_per_ip, true);
  if (s.fast_links) {
    p.set_int(sp::send_buffer_watermark, 16 << 20);
    p.set_int(sp::send_buffer_low_watermark, 4 << 20);
    p.set_int(sp::send_buffer_watermark_factor, 150);
    p.set_int(sp::max_out_request_queue, 1500);
    p.set_int(sp::max_allowed_in_request_queue, 4000);
    p.set_int(sp::request_queue_time, 2);
    p.set_int(sp::max_queued_disk_bytes, 64 << 20);
    p.set_int(sp::send_socket_buffer_size, 4 << 20);
    p.set_int(sp::recv_socket_buffer_size, 4 << 20);
    p.set_int(sp::min_reconnect_time, 1);
    p.set_int(sp::peer_connect_timeout, 3);
    p.set_int(sp::connection_speed, 200);
    // Disk and hash threads no more than the cores: each extra one costs a cross-core wakeup per
    // block. On 2 cores, 2 + 1 fetched 1 GiB on loopback at 1.22x the speed of 4 + 2 (median of
    // 5, same run; scripts/bench_swarm.sh); 4 + 2 also stalled once for 20 s in a sweep.
    const unsigned cores = worker_threads(0);
    p.set_int(sp::aio_threads, static_cast<int>(std::clamp(cores, 2u, 8u)));
    p.set_int(sp::hashing_threads, static_cast<int>(std::clamp(cores / 2, 1u, 4u)));
    p.set_int(sp::mixed_mode_algorithm, sp::prefer_tcp);
    p.set_bool(sp::close_redundant_connections, true);
    // Connections, unchokes and request queues are revisited every tick: react in 100 ms.
    // Not with uTP: with such short ticks libtorrent 2.0.8's uTP transfers stall for good
    // unless the client keeps calling into the session (a loopback fetch with --transport both
    // never got past the manifest; test_swarm has the case).
    if (s.transport == Transport::tcp) p.set_int(sp::tick_interval, 100);
  }
  for (const std::string& item : s.libtorrent_settings) MS_TRY(apply_libtorrent_setting(item, p));
  return p;
}

lt::ip_filter all_peers_global_class() {
  // Every address in the global class (bit 0): rate limits then apply to LAN/loopback too.
  lt::ip_filter f;
  f.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), 1u << 0);
  f.add_rule(lt::make_address("::"), lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
             1u << 0);
  return f;
}

}  // namespace modelswarm::swarm
