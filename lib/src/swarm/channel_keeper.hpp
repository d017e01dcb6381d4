// Private to lib/src/swarm: what keeps the channels of seeded releases alive (SeedOptions::
// channel_refresh). Driven by seed's loop: it is handed every alert and called at every turn.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "channel_dht.hpp"
#include "session_impl.hpp"

namespace modelswarm::swarm {

class ChannelKeeper {
 public:
  ChannelKeeper(Session::Impl& s, std::vector<ChannelRef> channels, std::chrono::seconds refresh);
  // True when the alert was the keeper's.
  bool on_alert(const lt::alert* a);
  // The DHT routing table's size (seed's loop watches it): lookups wait for a node.
  void set_dht_nodes(int nodes) { nodes_ = nodes; }
  void tick(std::chrono::steady_clock::time_point now);

 private:
  struct Kept {
    ChannelRef ref;
    std::optional<ChannelItem> best;  // newest valid item seen in this round
    std::chrono::steady_clock::time_point next_round{};
    std::optional<std::chrono::steady_clock::time_point> lookup_since;
  };
  void finish_lookup(Kept& k, std::chrono::steady_clock::time_point now);
  void emit(const ChannelRef& ref, const std::string& message, Event::Kind kind = Event::Kind::channel) const;

  Session::Impl& s_;
  std::vector<Kept> kept_;
  std::chrono::seconds refresh_;
  int nodes_ = 0;
};

}  // namespace modelswarm::swarm
