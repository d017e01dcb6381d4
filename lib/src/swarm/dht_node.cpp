// A session that is only a DHT node (swarm.hpp: run_dht_node).
#include "channel_dht.hpp"
#include "session_impl.hpp"

namespace modelswarm::swarm {

Status run_dht_node(Session& session, const std::function<void(int)>& on_nodes, const std::atomic<bool>& stop) {
  Session::Impl& s = SessionAccess::of(session);
  if (!s.settings.dht) return Error::invalid_argument("dht-node: the DHT is off in this session");
  int last = -1;
  auto next_stats = std::chrono::steady_clock::now();
  while (!stop.load()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_stats) {
      s.ses->post_dht_stats();
      next_stats = now + std::chrono::seconds(1);
    }
    for (lt::alert* a : s.pop_alerts(std::chrono::milliseconds(200))) {
      if (auto* st = lt::alert_cast<lt::dht_stats_alert>(a)) {
        int n = routing_nodes(*st);
        if (n != last && on_nodes) on_nodes(n);
        last = n;
      } else {
        translate_common_alert(s, a);
      }
    }
  }
  return Status::success();
}

}  // namespace modelswarm::swarm
