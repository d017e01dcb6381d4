#include "modelswarm/swarm.hpp"

namespace modelswarm::swarm {

const char* event_kind_name(Event::Kind kind) {
  switch (kind) {
    case Event::Kind::listening: return "listening";
    case Event::Kind::added: return "added";
    case Event::Kind::metadata: return "metadata";
    case Event::Kind::manifest_verified: return "manifest_verified";
    case Event::Kind::reused: return "reused";
    case Event::Kind::progress: return "progress";
    case Event::Kind::peer_banned: return "peer_banned";
    case Event::Kind::hash_failed: return "hash_failed";
    case Event::Kind::peer: return "peer";
    case Event::Kind::piece: return "piece";
    case Event::Kind::warning: return "warning";
    case Event::Kind::done: return "done";
    case Event::Kind::error: return "error";
    case Event::Kind::stopped: return "stopped";
    case Event::Kind::channel: return "channel";
  }
  return "unknown";
}

}  // namespace modelswarm::swarm

namespace modelswarm::swarm {

std::string describe_waiting(const Progress& p) {
  std::string s = std::to_string(p.peers) + " peers connected (" + std::to_string(p.peers_known) + " known); ";
  if (p.trackers == 0) {
    s += "no trackers";
  } else {
    s += "trackers: " + std::to_string(p.trackers) + ", ";
    s += p.trackers_working ? std::to_string(p.trackers_working) + " answering" : "none answering";
    if (!p.tracker_error.empty()) s += " (" + p.tracker_error + ")";
  }
  s += p.dht_nodes < 0 ? "; DHT off" : "; DHT: " + std::to_string(p.dht_nodes) + " nodes";
  s += p.lsd ? "; local discovery on" : "; local discovery off";
  return s;
}

}  // namespace modelswarm::swarm
