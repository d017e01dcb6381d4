// The gateway's HTTP/1.1 server: Boost.Beast parses requests and writes headers; file bodies go
// out with sendfile(2), as nginx sends them, so a download costs one copy in the kernel. One
// thread per connection: clients open few, and a blocked sendfile must not stall the others.
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <list>
#include <memory>
#include <thread>

#include "hf_api.hpp"
#include "http_server.hpp"

namespace modelswarm::gateway {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

Result<tcp::endpoint> parse_listen(const std::string& spec) {
  auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    return Error::invalid_argument("--listen '" + spec + "': expected IP:PORT");
  std::string host = spec.substr(0, colon), port = spec.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Error::invalid_argument("--listen '" + spec + "': '" + host + "' is not an IP address");
  unsigned long p = 0;
  try {
    size_t used = 0;
    p = std::stoul(port, &used);
    if (used != port.size() || p > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return Error::invalid_argument("--listen '" + spec + "': bad port");
  }
  return tcp::endpoint(addr, static_cast<unsigned short>(p));
}

struct Connection {
  tcp::socket socket;
  std::thread thread;
  std::atomic<bool> done{false};
  std::atomic<bool> busy{false};
  std::atomic<std::int64_t> last_active;
  explicit Connection(tcp::socket s)
      : socket(std::move(s)), last_active(Clock::now().time_since_epoch().count()) {}
};

// As nginx's sendfile_max_chunk: one huge call keeps the page cache to socket copy in one
// long stretch on a core the client also needs on loopback.
constexpr std::uint64_t kSendfileChunk = 2u << 20;

bool send_file(int sock, int fd, std::uint64_t offset, std::uint64_t length) {
  off_t off = static_cast<off_t>(offset);
  while (length > 0) {
    ssize_t n = ::sendfile(sock, fd, &off, static_cast<size_t>(std::min<std::uint64_t>(length, kSendfileChunk)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    length -= static_cast<std::uint64_t>(n);
  }
  return true;
}

void serve_connection(Connection& c, Holdings& holdings, const std::function<void(const std::string&)>& log) {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(1 << 20);
    http::read(c.socket, buffer, parser, ec);
    if (ec) {
      if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != asio::error::connection_reset &&
          ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor && ec != asio::error::shut_down) {
        http::response<http::string_body> bad{http::status::bad_request, 11};
        bad.set(http::field::content_type, "application/json; charset=utf-8");
        bad.body() = "{\"error\":\"bad request\"}";
        bad.keep_alive(false);
        bad.prepare_payload();
        boost::system::error_code ignored;
        http::write(c.socket, bad, ignored);
      }
      break;
    }
    c.busy = true;
    const auto& req = parser.get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.range = std::string(req[http::field::range]);
    r.content_type = std::string(req[http::field::content_type]);
    r.body = req.body();
    HttpResponse resp = handle_request(holdings, r);
    bool head = req.method() == http::verb::head;
    bool keep_alive = req.keep_alive();

    http::response<http::empty_body> out{static_cast<http::status>(resp.status), req.version()};
    out.set(http::field::server, "modelswarm/" MODELSWARM_VERSION);
    for (const auto& [k, v] : resp.headers) out.set(k, v);
    out.set(http::field::content_length, std::to_string(resp.content_length()));
    out.keep_alive(keep_alive);
    http::response_serializer<http::empty_body> sr{out};
    http::write_header(c.socket, sr, ec);
    bool ok = !ec;
    if (ok && !head) {
      if (resp.file_fd >= 0) ok = send_file(c.socket.native_handle(), resp.file_fd, resp.file_offset, resp.file_length);
      else if (!resp.body.empty()) {
        asio::write(c.socket, asio::buffer(resp.body), ec);
        ok = !ec;
      }
    }
    if (log) log(r.method + " " + r.target + " " + std::to_string(resp.status) + " " + std::to_string(resp.content_length()));
    c.last_active = Clock::now().time_since_epoch().count();
    c.busy = false;
    if (!ok || !keep_alive) break;
  }
  c.socket.shutdown(tcp::socket::shutdown_both, ec);
  c.socket.close(ec);
}

}  // namespace

struct HttpServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::bind(const std::string& listen) {
  MS_ASSIGN_OR_RETURN(tcp::endpoint ep, parse_listen(listen));
  std::unique_ptr<HttpServer> s(new HttpServer());
  boost::system::error_code ec;
  auto& a = s->impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::network("cannot listen on " + listen + ": " + ec.message());
  return s;
}

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::run(Holdings& holdings, const std::atomic<bool>& stop, std::chrono::seconds idle_timeout,
                     const std::function<void(const std::string&)>& log) {

  std::list<std::unique_ptr<Connection>> conns;
  auto& acceptor = impl_->acceptor;
  while (!stop.load()) {
    pollfd p{acceptor.native_handle(), POLLIN, 0};
    int n = ::poll(&p, 1, 200);
    if (n > 0 && (p.revents & POLLIN)) {
      tcp::socket sock(impl_->ioc);
      boost::system::error_code ec;
      acceptor.accept(sock, ec);
      if (!ec) {
        sock.set_option(tcp::no_delay(true), ec);
        auto c = std::make_unique<Connection>(std::move(sock));
        Connection* raw = c.get();
        c->thread = std::thread([raw, &holdings, &log] {
          serve_connection(*raw, holdings, log);
          raw->done = true;
        });
        conns.push_back(std::move(c));
      }
    }
    // Reap finished connections; close those idle between requests for too long (a blocking
    // read has no timeout of its own).
    auto now = Clock::now().time_since_epoch().count();
    auto idle = std::chrono::duration_cast<Clock::duration>(idle_timeout).count();
    for (auto it = conns.begin(); it != conns.end();) {
      Connection& c = **it;
      if (c.done) {
        c.thread.join();
        it = conns.erase(it);
        continue;
      }
      if (!c.busy && now - c.last_active > idle) ::shutdown(c.socket.native_handle(), SHUT_RDWR);
      ++it;
    }
  }
  holdings.shutdown();
  for (auto& c : conns) ::shutdown(c->socket.native_handle(), SHUT_RDWR);
  for (auto& c : conns) c->thread.join();
}

}  // namespace modelswarm::gateway
