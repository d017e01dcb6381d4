// Private to lib/src/swarm: the libtorrent side of Session, shared by seed.cpp and fetch.cpp.
#pragma once

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_status.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "modelswarm/swarm.hpp"

namespace modelswarm::swarm {

namespace lt = libtorrent;

struct Session::Impl {
  SessionSettings settings;
  EventCallback on_event;
  std::unique_ptr<lt::session> ses;
  int port = 0;
  std::string peer_id_hex;
  std::vector<lt::tcp::endpoint> explicit_peers;

  void emit(const Event& e) const {
    if (on_event) on_event(e);
  }
  // Trackers, peers, and flags every torrent of this session gets.
  void apply_common(lt::add_torrent_params& atp) const;
  // Connects (again) to the explicit --peer endpoints; harmless when already connected.
  void connect_explicit_peers(const lt::torrent_handle& h) const;
  // Pops pending alerts (waiting up to `wait`).
  std::vector<lt::alert*> pop_alerts(std::chrono::milliseconds wait);
  // Adds the CA certificates in `pem` to those libtorrent checks https web seeds (and
  // trackers) against, for the rest of the session (web_seed_ca.cpp).
  Status trust_web_seed_ca(const std::filesystem::path& pem);
  std::set<std::filesystem::path> web_seed_cas;  // already added
};

struct SessionAccess {
  static Session::Impl& of(Session& s) { return *s.impl_; }
};

// Per-remote-peer byte totals, summed over connections (a reconnection starts at zero again).
class PeerTally {
 public:
  void sample(const lt::torrent_handle& h);
  // Counts a received block (connections can open and close between two samples).
  void add_block(const lt::block_finished_alert& a, const lt::torrent_info* ti);
  std::vector<PeerStats> totals() const;

 private:
  struct Conn {
    std::string pid;
    std::string endpoint;
    std::string client;
    std::int64_t down = 0, up = 0;
    std::int64_t blocks_down = 0;  // from block_finished alerts
  };
  // key: peer id hex + remote endpoint of that connection
  std::map<std::pair<std::string, std::string>, Conn> conns_;
};

std::string info_hash_hex(const lt::info_hash_t& ih);
// File `i`'s path inside the release directory: the torrent's path without its root (the
// release name) and the '/' after it.
std::string release_path(const lt::file_storage& files, lt::file_index_t i);
std::string endpoint_string(const lt::tcp::endpoint& ep);
Progress make_progress(const lt::torrent_status& st, const std::string& state);
// Events for alerts any operation may see (bans, hash failures, tracker and listen problems).
// Returns true when the alert was translated.
bool translate_common_alert(const Session::Impl& s, const lt::alert* a);

// Resume data: write_resume_data_buf() to `path` atomically; read back into atp.
Status save_resume_file(const std::filesystem::path& path, const lt::add_torrent_params& params);
Result<lt::add_torrent_params> load_resume_file(const std::filesystem::path& path);
// Asks every handle for resume data and waits (bounded) for the answers; writes each to
// path_for(handle). Alerts that are not about resume data are passed to `other`.
void save_all_resume(Session::Impl& s, const std::vector<lt::torrent_handle>& handles,
                     const std::function<std::filesystem::path(const lt::torrent_handle&)>& path_for,
                     lt::resume_data_flags_t flags,
                     const std::function<void(lt::alert*)>& other);

}  // namespace modelswarm::swarm
