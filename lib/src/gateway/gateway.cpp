// run_gateway: the HTTP listener, the releases it answers from, and their seeding, together.
#include "modelswarm/gateway.hpp"

#include "holdings.hpp"
#include "modelswarm/minisign.hpp"
#include "http_server.hpp"

namespace modelswarm {

Status run_gateway(const Catalogue& catalogue, const GatewayOptions& options, const std::atomic<bool>& stop) {
  for (const auto& repo : catalogue.repos)
    for (const auto& rel : repo.releases)
      for (const auto& k : rel.trust)
        if (auto key = load_public_key(k); !key.ok()) return key.error();
  // Bound before anything else, so that a taken port is reported before any swarm work.
  MS_ASSIGN_OR_RETURN(auto server, gateway::HttpServer::bind(options.listen));
  GatewayOptions o = options;
  o.seeding.peers.insert(o.seeding.peers.end(), catalogue.peers.begin(), catalogue.peers.end());
  o.seeding.trackers.insert(o.seeding.trackers.end(), catalogue.trackers.begin(), catalogue.trackers.end());
  gateway::Holdings holdings(catalogue, o);
  holdings.start();
  if (o.on_listening) o.on_listening(server->port());
  server->run(holdings, stop, o.idle_timeout, o.on_request);
  holdings.shutdown();
  return Status::success();
}

}  // namespace modelswarm
