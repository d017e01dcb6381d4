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
  }
  return "unknown";
}

}  // namespace modelswarm::swarm
