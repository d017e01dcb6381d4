// Session: opening libtorrent with our settings, alert plumbing, per-peer tallies.
#include <libtorrent/mmap_disk_io.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/session_params.hpp>
#include <netdb.h>

#include <cstdlib>
#include <random>

#include "no_delay.hpp"
#include "session_impl.hpp"
#include "settings.hpp"

namespace modelswarm::swarm {

namespace {

std::string random_peer_id() {
  // "-MS0100-" is the Azureus-style client prefix; 12 random characters make it unique.
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::random_device rd;
  std::string id = "-MS0100-";
  for (int i = 0; i < 12; ++i) id += alphabet[rd() % (sizeof alphabet - 1)];
  return id;
}

std::string to_hex(const char* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    auto b = static_cast<unsigned char>(p[i]);
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

Result<std::vector<lt::tcp::endpoint>> resolve_peer(const std::string& spec) {
  auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    return Error::invalid_argument("peer '" + spec + "': expected HOST:PORT");
  std::string host = spec.substr(0, colon), port = spec.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Error::network("peer '" + spec + "': " + gai_strerror(rc));
  std::vector<lt::tcp::endpoint> eps;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    lt::tcp::endpoint ep;
    if (ai->ai_addrlen <= sizeof(sockaddr_storage)) {
      std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
      eps.push_back(ep);
    }
  }
  freeaddrinfo(res);
  if (eps.empty()) return Error::network("peer '" + spec + "': no address");
  return eps;
}

}  // namespace

std::string info_hash_hex(const lt::info_hash_t& ih) {
  if (ih.has_v2()) return to_hex(ih.v2.data(), ih.v2.size());
  return to_hex(ih.v1.data(), ih.v1.size());
}

std::string release_path(const lt::file_storage& files, lt::file_index_t i) {
  std::string path = files.file_path(i, "");
  return path.substr(std::min(path.size(), files.name().size() + 1));
}

std::string endpoint_string(const lt::tcp::endpoint& ep) {
  auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

Result<std::unique_ptr<Session>> Session::open(const SessionSettings& settings,
                                               EventCallback on_event) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->on_event = std::move(on_event);
  std::string pid = random_peer_id();
  impl->peer_id_hex = to_hex(pid.data(), pid.size());
  for (const auto& spec : settings.peers) {
    MS_ASSIGN_OR_RETURN(auto eps, resolve_peer(spec));
    impl->explicit_peers.insert(impl->explicit_peers.end(), eps.begin(), eps.end());
  }

  MS_ASSIGN_OR_RETURN(lt::settings_pack pack, to_settings_pack(settings, pid));
  lt::session_params params(std::move(pack));
  // Never replace params.extensions: an empty list silently drops ut_metadata, ut_pex and
  // smart_ban.
  params.disk_io_constructor = settings.disk == DiskBackend::posix ? lt::posix_disk_io_constructor
                                                                   : lt::mmap_disk_io_constructor;
  try {
    impl->ses = std::make_unique<lt::session>(std::move(params));
  } catch (const std::exception& e) {
    return Error::network(std::string("cannot start the BitTorrent session: ") + e.what());
  }
  if (settings.limit_local_peers) impl->ses->set_peer_class_filter(all_peers_global_class());
  // Bootstrap routers are only asked for other nodes, never kept in the routing table; pinged
  // as plain nodes they are kept, which a small private DHT needs to converge at all.
  if (settings.dht)
    for (const auto& spec : settings.dht_bootstrap) {
      auto colon = spec.rfind(':');
      int port = 0;
      if (colon != std::string::npos) port = std::atoi(spec.c_str() + colon + 1);
      if (colon == std::string::npos || colon == 0 || port <= 0 || port > 65535)
        return Error::invalid_argument("DHT bootstrap node '" + spec + "': expected HOST:PORT");
      std::string host = spec.substr(0, colon);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      impl->ses->add_dht_node({host, port});
    }
  impl->ses->add_extension(make_no_delay_plugin());

  // Wait (bounded) for the listen sockets so that the bound port can be reported.
  std::string failure;
  bool listening = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!listening && std::chrono::steady_clock::now() < deadline) {
    for (lt::alert* a : impl->pop_alerts(std::chrono::milliseconds(100))) {
      if (auto* ok = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
        if (ok->socket_type == lt::socket_type_t::tcp) listening = true;
      } else if (auto* bad = lt::alert_cast<lt::listen_failed_alert>(a)) {
        failure = bad->message();
      }
    }
    if (!failure.empty() && !listening && !impl->ses->is_listening()) break;
  }
  if (!listening && !impl->ses->is_listening())
    return Error::network("cannot listen on '" + settings.listen + "': " +
                          (failure.empty() ? std::string("timed out") : failure));
  impl->port = impl->ses->listen_port();
  Event e;
  e.kind = Event::Kind::listening;
  e.port = impl->port;
  e.peer_id = impl->peer_id_hex;
  impl->emit(e);
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Session::~Session() {
  if (impl_ && impl_->ses) {
    // abort() returns a proxy whose destruction waits for the session threads (and trackers'
    // "stopped" announces, bounded by stop_tracker_timeout).
    auto proxy = impl_->ses->abort();
    impl_->ses.reset();
  }
}

int Session::listen_port() const { return impl_->port; }
const std::string& Session::peer_id() const { return impl_->peer_id_hex; }
const SessionSettings& Session::settings() const { return impl_->settings; }

void Session::Impl::apply_common(lt::add_torrent_params& atp) const {
  int tier = 0;
  for (const auto& url : settings.trackers) {
    atp.trackers.push_back(url);
    atp.tracker_tiers.resize(atp.trackers.size(), 0);
    atp.tracker_tiers.back() = tier++;
  }
  if (settings.max_peers_per_torrent > 0) atp.max_connections = settings.max_peers_per_torrent;
  // Queueing would pause releases behind one another; every release here is active.
  atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
  if (settings.super_seeding) atp.flags |= lt::torrent_flags::super_seeding;
}

void Session::Impl::connect_explicit_peers(const lt::torrent_handle& h) const {
  for (const auto& ep : explicit_peers) h.connect_peer(ep);
}

std::vector<lt::alert*> Session::Impl::pop_alerts(std::chrono::milliseconds wait) {
  std::vector<lt::alert*> alerts;
  if (ses->wait_for_alert(wait)) ses->pop_alerts(&alerts);
  return alerts;
}

void PeerTally::sample(const lt::torrent_handle& h) {
  std::vector<lt::peer_info> peers;
  h.get_peer_info(peers);
  for (const auto& p : peers) {
    std::string pid = to_hex(reinterpret_cast<const char*>(p.pid.data()), p.pid.size());
    Conn& c = conns_[{pid, endpoint_string(p.ip)}];
    c.pid = pid;
    c.endpoint = endpoint_string(p.ip);
    c.client = p.client;
    c.down = std::max(c.down, p.total_download);
    c.up = std::max(c.up, p.total_upload);
  }
}

void PeerTally::add_block(const lt::block_finished_alert& a, const lt::torrent_info* ti) {
  std::string pid = to_hex(reinterpret_cast<const char*>(a.pid.data()), a.pid.size());
  Conn& c = conns_[{pid, endpoint_string(a.endpoint)}];
  c.pid = pid;
  c.endpoint = endpoint_string(a.endpoint);
  std::int64_t len = lt::default_block_size;
  if (ti) {
    std::int64_t piece = ti->piece_size(a.piece_index);
    len = std::min<std::int64_t>(len, piece - std::int64_t{a.block_index} * lt::default_block_size);
  }
  c.blocks_down += std::max<std::int64_t>(len, 0);
}

std::vector<PeerStats> PeerTally::totals() const {
  std::map<std::string, PeerStats> by_pid;
  for (const auto& [key, c] : conns_) {
    PeerStats& s = by_pid[c.pid];
    if (s.peer_id.empty()) {
      s.peer_id = c.pid;
      s.endpoint = c.endpoint;
      s.client = c.client;
    }
    s.downloaded += std::max(c.down, c.blocks_down);
    s.uploaded += c.up;
  }
  std::vector<PeerStats> out;
  for (auto& [pid, s] : by_pid) out.push_back(std::move(s));
  return out;
}

Progress make_progress(const lt::torrent_status& st, const std::string& state) {
  Progress p;
  p.state = state;
  p.total_wanted = st.total_wanted;
  p.total_done = st.total_wanted_done;
  p.payload_downloaded = st.total_payload_download;
  p.payload_uploaded = st.total_payload_upload;
  p.download_rate = st.download_payload_rate;
  p.upload_rate = st.upload_payload_rate;
  p.peers = st.num_peers;
  p.seeds = st.num_seeds;
  std::int64_t left = st.total_wanted - st.total_wanted_done;
  if (left == 0) p.eta_seconds = 0;
  else if (st.download_payload_rate > 0) p.eta_seconds = left / st.download_payload_rate;
  return p;
}

bool translate_common_alert(const Session::Impl& s, const lt::alert* a) {
  Event e;
  if (auto* ban = lt::alert_cast<lt::peer_ban_alert>(a)) {
    e.kind = Event::Kind::peer_banned;
    e.name = ban->torrent_name();
    e.message = endpoint_string(ban->endpoint);
  } else if (auto* hf = lt::alert_cast<lt::hash_failed_alert>(a)) {
    e.kind = Event::Kind::hash_failed;
    e.name = hf->torrent_name();
    e.message = "piece " + std::to_string(static_cast<int>(hf->piece_index));
  } else if (auto* te = lt::alert_cast<lt::tracker_error_alert>(a)) {
    e.kind = Event::Kind::warning;
    e.name = te->torrent_name();
    e.message = "tracker " + std::string(te->tracker_url()) + ": " + te->error_message() +
                (te->error ? " (" + te->error.message() + ")" : "");
  } else if (auto* pc = lt::alert_cast<lt::peer_connect_alert>(a)) {
    e.kind = Event::Kind::peer;
    e.name = pc->torrent_name();
    e.endpoint = endpoint_string(pc->endpoint);
    e.message = "connected";
  } else if (auto* pd = lt::alert_cast<lt::peer_disconnected_alert>(a)) {
    e.kind = Event::Kind::peer;
    e.name = pd->torrent_name();
    e.endpoint = endpoint_string(pd->endpoint);
    e.message = "disconnected: " + pd->error.message();
  } else if (auto* lf = lt::alert_cast<lt::listen_failed_alert>(a)) {
    e.kind = Event::Kind::warning;
    e.message = lf->message();
  } else {
    return false;
  }
  s.emit(e);
  return true;
}

}  // namespace modelswarm::swarm
