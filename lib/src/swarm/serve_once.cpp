#include "serve_once.hpp"

#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/peer_request.hpp>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace modelswarm::swarm {

namespace {

using Clock = std::chrono::steady_clock;
// After the owner's last block of a piece went out: time for it to announce the piece (HAVE)
// and for the others to ask it instead. An owner passes the piece on to its peers while it also
// passes on every other piece it owns, so that takes seconds: with 4 s, a seeder feeding 16
// leechers over 25 Mbit/s links (scripts/bench_netlab.sh) sent 1.24-1.36x the release and the
// last leecher finished at 1.5x S/U; with 10 s, 1.04x and 1.38x S/U (16 s: no better).
constexpr auto kGrace = std::chrono::seconds(10);
// An owner whose requests stop moving (a choked or stalled peer) loses the piece after this.
constexpr auto kStall = std::chrono::seconds(20);

class ServeOncePeer;

// A piece's owner is the peer it is being (or was last) sent to. The grace runs from the last
// block sent, not from the request: with a capped upload, requests wait in the seeder's queue
// for seconds, and a grace counted from the request let others get the piece from the seeder
// before the owner had it at all (the swarm test saw 1.56x S sent instead of about 1x).
struct Owner {
  const ServeOncePeer* peer;
  int pending = 0;  // the owner's requests for the piece not yet sent, rejected or cancelled
  Clock::time_point last;
};

// libtorrent calls every hook of a torrent's plugins on its network thread: no locking.
// How fast a peer completes pieces (from anyone), from its HAVE messages: an exponentially
// decaying count, in pieces per second.
class HaveRate {
 public:
  void add(Clock::time_point now) {
    decay(now);
    value_ += 1.0 / kWindow;
  }
  double rate(Clock::time_point now) {
    decay(now);
    return value_;
  }

 private:
  static constexpr double kWindow = 5.0;  // seconds
  void decay(Clock::time_point now) {
    double dt = std::chrono::duration<double>(now - at_).count();
    if (dt > 0) value_ *= std::exp(-dt / kWindow);
    at_ = now;
  }
  double value_ = 0;
  Clock::time_point at_ = Clock::now();
};

class ServeOnceTorrent : public lt::torrent_plugin {
 public:
  explicit ServeOnceTorrent(int num_pieces) : asked_(static_cast<size_t>(std::max(0, num_pieces)), false) {}
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override;
  std::map<lt::piece_index_t, Owner> owners;
  // Weak: a connection (and its plugin) may outlive the torrent's view of it.
  std::vector<std::weak_ptr<ServeOncePeer>> peers;

  // A peer that completes pieces at under a quarter of the fastest peer's rate is on a slow
  // link: it would pass a piece on slowly, so it is served without holding the piece for it
  // (on mixed links, fast leechers were otherwise held back by slow owners: 2.5x S/U).
  bool slow(ServeOncePeer* p, Clock::time_point now);

  void mark_asked(lt::piece_index_t p) {
    auto i = static_cast<size_t>(static_cast<int>(p));
    if (i < asked_.size() && !asked_[i]) {
      asked_[i] = true;
      ++asked_count_;
    }
  }
  // The next piece nobody has asked for, round-robin so that concurrent suggestions differ;
  // none once every piece has been asked for.
  std::optional<lt::piece_index_t> fresh_piece() {
    if (asked_count_ >= asked_.size()) return std::nullopt;
    for (size_t n = 0; n < asked_.size(); ++n) {
      size_t i = (cursor_ + n) % asked_.size();
      if (!asked_[i]) {
        cursor_ = i + 1;
        return lt::piece_index_t(static_cast<int>(i));
      }
    }
    return std::nullopt;
  }

 private:
  double best_ = 0;  // the fastest peer's have_rate at best_at_ - 1 s
  Clock::time_point best_at_{};
  std::vector<bool> asked_;
  size_t asked_count_ = 0;
  size_t cursor_ = 0;
};

class ServeOncePeer : public lt::peer_plugin {
 public:
  ServeOncePeer(ServeOnceTorrent& t, const lt::peer_connection_handle& pc) : t_(t), pc_(pc) {}

  bool on_handshake(lt::span<char const> reserved) override {
    // BEP 6: the fast extension is bit 0x04 of the last reserved byte; without it a REJECT
    // would be a protocol error, so such a peer is served like any other.
    fast_ = reserved.size() == 8 && (reserved[7] & 0x04) != 0;
    return true;
  }

  bool on_have(lt::piece_index_t) override {
    haves_.add(Clock::now());
    return false;
  }
  double have_rate(Clock::time_point now) { return haves_.rate(now); }

  bool on_request(const lt::peer_request& r) override {
    auto now = Clock::now();
    if (t_.slow(this, now)) {
      // Served, never an owner; and a piece a slow peer holds is free for the others.
      auto it = t_.owners.find(r.piece);
      if (it != t_.owners.end() && it->second.peer == this) t_.owners.erase(it);
      t_.mark_asked(r.piece);
      return false;
    }
    auto [it, fresh] = t_.owners.try_emplace(r.piece, Owner{this, 0, now});
    Owner& o = it->second;
    t_.mark_asked(r.piece);
    if (!fresh && o.peer != this && fast_) {
      bool held = now - o.last < kGrace || (o.pending > 0 && now - o.last < kStall);
      if (held) {
        reject(r);
        suggest_fresh();
        return true;
      }
      o = Owner{this, 0, now};  // the others now ask the new owner, or both
    }
    if (fresh && fast_) suggest_fresh();  // where to go next, before it picks a held piece
    ++o.pending;
    o.last = now;
    return false;
  }
  void sent_piece(const lt::peer_request& r) override { settled(r.piece); }
  void sent_reject_request(const lt::peer_request& r) override { settled(r.piece); }
  bool on_cancel(const lt::peer_request& r) override {
    settled(r.piece);
    return false;
  }
  void sent_choke() override {
    // A choke drops the peer's queued requests.
    for (auto& [piece, o] : t_.owners)
      if (o.peer == this) o.pending = 0;
  }
  void on_disconnect(const lt::error_code&) override {
    for (auto it = t_.owners.begin(); it != t_.owners.end();)
      it = it->second.peer == this ? t_.owners.erase(it) : std::next(it);
  }

 private:
  void settled(lt::piece_index_t piece) {
    auto it = t_.owners.find(piece);
    if (it == t_.owners.end() || it->second.peer != this) return;
    if (it->second.pending > 0) --it->second.pending;
    it->second.last = Clock::now();
  }
  void suggest_fresh() {
    auto p = t_.fresh_piece();
    if (!p) return;
    // SUGGEST_PIECE (fast extension): length 5, id 13, index (big-endian).
    char msg[9];
    put32(msg, 5);
    msg[4] = 13;
    put32(msg + 5, static_cast<std::uint32_t>(static_cast<int>(*p)));
    pc_.send_buffer(msg, sizeof msg);
  }
  void reject(const lt::peer_request& r) {
    // REJECT_REQUEST (fast extension): length 13, id 16, index, begin, length (big-endian).
    char msg[17];
    put32(msg, 13);
    msg[4] = 16;
    put32(msg + 5, static_cast<std::uint32_t>(static_cast<int>(r.piece)));
    put32(msg + 9, static_cast<std::uint32_t>(r.start));
    put32(msg + 13, static_cast<std::uint32_t>(r.length));
    pc_.send_buffer(msg, sizeof msg);
  }
  static void put32(char* p, std::uint32_t v) {
    p[0] = static_cast<char>(v >> 24);
    p[1] = static_cast<char>(v >> 16);
    p[2] = static_cast<char>(v >> 8);
    p[3] = static_cast<char>(v);
  }
  ServeOnceTorrent& t_;
  lt::peer_connection_handle pc_;
  bool fast_ = false;
  HaveRate haves_;
};

bool ServeOnceTorrent::slow(ServeOncePeer* p, Clock::time_point now) {
  // on_request runs for every block: the fastest rate is recomputed at most once a second.
  if (now >= best_at_) {
    best_at_ = now + std::chrono::seconds(1);
    best_ = 0;
    peers.erase(std::remove_if(peers.begin(), peers.end(), [](const auto& w) { return w.expired(); }), peers.end());
    for (const auto& w : peers)
      if (auto q = w.lock()) best_ = std::max(best_, q->have_rate(now));
  }
  // Until pieces flow (the first seconds), nobody is slow.
  return best_ > 1.0 && p->have_rate(now) < best_ / 4;
}

std::shared_ptr<lt::peer_plugin> ServeOnceTorrent::new_connection(const lt::peer_connection_handle& pc) {
  // Only BitTorrent peers speak REJECT; web seeds are never served by us anyway.
  if (pc.type() != lt::connection_type::bittorrent) return {};
  auto peer = std::make_shared<ServeOncePeer>(*this, pc);
  peers.push_back(peer);
  return peer;
}

}  // namespace

std::function<std::shared_ptr<lt::torrent_plugin>(const lt::torrent_handle&, lt::client_data_t)>
serve_once_plugin(int num_pieces) {
  return [num_pieces](const lt::torrent_handle&, lt::client_data_t) -> std::shared_ptr<lt::torrent_plugin> {
    return std::make_shared<ServeOnceTorrent>(num_pieces);
  };
}

}  // namespace modelswarm::swarm
