// libtorrent 2.0.8 has no setting for a CA file: its https web seeds and trackers are checked
// (validate_https_trackers, on by default) against the system store only, through one TLS
// client context of the session. That context is reached through the plugin handle, the one
// place this library depends on libtorrent internals; kept to this file.
#include <libtorrent/aux_/session_impl.hpp>

#include "session_impl.hpp"

namespace modelswarm::swarm {

Status Session::Impl::trust_web_seed_ca(const std::filesystem::path& pem) {
  if (pem.empty() || web_seed_cas.count(pem)) return Status::success();
#if TORRENT_USE_SSL
  auto impl = ses->native_handle();
  if (!impl) return Error::internal("libtorrent session is gone");
  // Safe from this thread while the network thread makes connections: OpenSSL locks the
  // certificate store for every addition and lookup.
  boost::system::error_code ec;
  lt::aux::session_interface& internals = *impl;  // ssl_ctx() is public only there
  internals.ssl_ctx()->load_verify_file(pem.string(), ec);
  if (ec)
    return Error::format(pem.string() + ": not a PEM file of CA certificates (" + ec.message() + ")");
  web_seed_cas.insert(pem);
  return Status::success();
#else
  return Error::unsupported(pem.string() + ": libtorrent was built without TLS, so https web "
                                           "seeds cannot be used");
#endif
}

}  // namespace modelswarm::swarm
