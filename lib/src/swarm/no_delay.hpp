// Private: TCP_NODELAY on every BitTorrent TCP connection.
//
// libtorrent 2.0.8 never disables Nagle's algorithm. A peer with few block requests in flight
// (every new connection, and one that has just finished the two signed files) then waits for
// the other side's delayed ACK on each 16 KiB block: one round trip per 40 ms, about 0.8 MB/s,
// until the next once-a-second rate estimate lets the request queue grow. On a LAN that is most
// of the first second of every transfer.
#pragma once

#include <libtorrent/extensions.hpp>

#include <memory>

namespace modelswarm::swarm {

namespace lt = libtorrent;

// A session plugin (lt::session::add_extension) that sets TCP_NODELAY on each peer's socket
// once its handshake arrives.
std::shared_ptr<lt::plugin> make_no_delay_plugin();

}  // namespace modelswarm::swarm
