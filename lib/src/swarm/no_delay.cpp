#include "no_delay.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/peer_info.hpp>

#include <cstdlib>
#include <cstring>

namespace modelswarm::swarm {

namespace {

bool same_endpoint(const sockaddr_storage& sa, const lt::tcp::endpoint& ep) {
  if (sa.ss_family == AF_INET && ep.address().is_v4()) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(sa);
    return ntohs(in.sin_port) == ep.port() && ntohl(in.sin_addr.s_addr) == ep.address().to_v4().to_uint();
  }
  if (sa.ss_family == AF_INET6 && ep.address().is_v6()) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(sa);
    auto bytes = ep.address().to_v6().to_bytes();
    return ntohs(in6.sin6_port) == ep.port() && std::memcmp(in6.sin6_addr.s6_addr, bytes.data(), 16) == 0;
  }
  return false;
}

// The public peer_connection_handle does not expose the socket, so the descriptor is found by
// its two endpoints among this process's open files.
void set_no_delay(const lt::tcp::endpoint& local, const lt::tcp::endpoint& remote) {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == ::dirfd(d)) continue;
    int proto = 0;
    socklen_t len = sizeof proto;
    if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_PROTOCOL, &proto, &len) != 0 || proto != IPPROTO_TCP)
      continue;
    sockaddr_storage peer{}, self{};
    socklen_t pl = sizeof peer, sl = sizeof self;
    if (::getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &pl) != 0 ||
        ::getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&self), &sl) != 0)
      continue;
    if (!same_endpoint(peer, remote) || !same_endpoint(self, local)) continue;
    int one = 1;
    ::setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    break;
  }
  ::closedir(d);
}

class NoDelayPeer : public lt::peer_plugin {
 public:
  explicit NoDelayPeer(lt::peer_connection_handle pc) : pc_(std::move(pc)) {}
  bool on_handshake(lt::span<char const>) override {
    // Both endpoints are known once the handshake has arrived, on either side of a connection.
    // uTP runs over the session's UDP socket: no Nagle there, and nothing to find.
    lt::peer_info info;
    pc_.get_peer_info(info);
    if (!(info.flags & lt::peer_info::utp_socket)) set_no_delay(pc_.local_endpoint(), pc_.remote());
    return true;
  }

 private:
  lt::peer_connection_handle pc_;
};

class NoDelayTorrent : public lt::torrent_plugin {
 public:
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& pc) override {
    if (pc.type() != lt::connection_type::bittorrent) return {};
    return std::make_shared<NoDelayPeer>(pc);
  }
};

class NoDelayPlugin : public lt::plugin {
 public:
  std::shared_ptr<lt::torrent_plugin> new_torrent(const lt::torrent_handle&, lt::client_data_t) override {
    return std::make_shared<NoDelayTorrent>();
  }
};

}  // namespace

std::shared_ptr<lt::plugin> make_no_delay_plugin() { return std::make_shared<NoDelayPlugin>(); }

}  // namespace modelswarm::swarm
