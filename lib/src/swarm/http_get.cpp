#include "http_get.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace modelswarm::swarm {

Result<std::string> http_get(const std::string& url, std::size_t max_bytes, std::chrono::seconds timeout) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return Error::unsupported(url + ": only http:// URLs are supported here");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = hostport, port = "80";
  if (auto colon = hostport.rfind(':'); colon != std::string::npos && hostport.find(']') == std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (host.empty() || hostport.find_first_of(" \r\n") != std::string::npos ||
      path.find_first_of(" \r\n") != std::string::npos)
    return Error::invalid_argument(url + ": malformed URL");
  boost::asio::ip::tcp::iostream s;
  s.expires_after(timeout);
  s.connect(host, port);
  if (!s) return Error::network(url + ": cannot connect: " + s.error().message());
  s << "GET " << path << " HTTP/1.0\r\nHost: " << hostport << "\r\nUser-Agent: modelswarm/"
    << MODELSWARM_VERSION << "\r\nConnection: close\r\n\r\n" << std::flush;
  std::string status;
  std::getline(s, status);
  if (status.rfind("HTTP/1.", 0) != 0 || status.size() < 12)
    return Error::network(url + ": not an HTTP response");
  if (status.substr(9, 3) != "200")
    return Error::network(url + ": HTTP " + status.substr(9, status.find_last_not_of("\r") - 8));
  std::string line;
  while (std::getline(s, line) && line != "\r" && !line.empty()) {
  }
  std::string body;
  char buf[65536];
  while (s.read(buf, sizeof buf) || s.gcount() > 0) {
    body.append(buf, static_cast<std::size_t>(s.gcount()));
    if (body.size() > max_bytes) return Error::format(url + ": response larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (s.error() && s.error() != boost::asio::error::eof)
    return Error::network(url + ": " + s.error().message());
  return body;
}

}  // namespace modelswarm::swarm
