#include "serve_once.hpp"

#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/peer_request.hpp>

#include <chrono>
#include <map>

namespace modelswarm::swarm {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kGrace = std::chrono::seconds(4);

class ServeOncePeer;

struct Owner {
  const ServeOncePeer* peer;
  Clock::time_point since;
};

// libtorrent calls every hook of a torrent's plugins on its network thread: no locking.
class ServeOnceTorrent : public lt::torrent_plugin {
 public:
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override;
  std::map<lt::piece_index_t, Owner> owners;
};

class ServeOncePeer : public lt::peer_plugin {
 public:
  ServeOncePeer(ServeOnceTorrent& t, const lt::peer_connection_handle& pc) : t_(t), pc_(pc) {}

  bool on_request(const lt::peer_request& r) override {
    auto now = Clock::now();
    auto [it, fresh] = t_.owners.try_emplace(r.piece, Owner{this, now});
    if (fresh || it->second.peer == this || now - it->second.since > kGrace) return false;
    // REJECT_REQUEST (fast extension): length 13, id 16, index, begin, length (big-endian).
    char msg[17];
    put32(msg, 13);
    msg[4] = 16;
    put32(msg + 5, static_cast<std::uint32_t>(static_cast<int>(r.piece)));
    put32(msg + 9, static_cast<std::uint32_t>(r.start));
    put32(msg + 13, static_cast<std::uint32_t>(r.length));
    pc_.send_buffer(msg, sizeof msg);
    return true;
  }

  void on_disconnect(const lt::error_code&) override {
    for (auto it = t_.owners.begin(); it != t_.owners.end();)
      it = it->second.peer == this ? t_.owners.erase(it) : std::next(it);
  }

 private:
  static void put32(char* p, std::uint32_t v) {
    p[0] = static_cast<char>(v >> 24);
    p[1] = static_cast<char>(v >> 16);
    p[2] = static_cast<char>(v >> 8);
    p[3] = static_cast<char>(v);
  }
  ServeOnceTorrent& t_;
  lt::peer_connection_handle pc_;
};

std::shared_ptr<lt::peer_plugin> ServeOnceTorrent::new_connection(const lt::peer_connection_handle& pc) {
  // Only BitTorrent peers speak REJECT; web seeds are never served by us anyway.
  if (pc.type() != lt::connection_type::bittorrent) return {};
  return std::make_shared<ServeOncePeer>(*this, pc);
}

}  // namespace

std::shared_ptr<lt::torrent_plugin> make_serve_once_plugin(const lt::torrent_handle&, lt::client_data_t) {
  return std::make_shared<ServeOnceTorrent>();
}

}  // namespace modelswarm::swarm
