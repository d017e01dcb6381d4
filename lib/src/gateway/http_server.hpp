// The gateway's HTTP listener (Boost.Beast); requests are answered by handle_request().
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "holdings.hpp"
#include "modelswarm/error.hpp"

namespace modelswarm::gateway {

class HttpServer {
 public:
  // Binds "IP:PORT" (IPv6 as "[::1]:PORT"); network error when it cannot.
  static Result<std::unique_ptr<HttpServer>> bind(const std::string& listen);
  ~HttpServer();
  int port() const;
  // Accepts and serves until `stop`; then shuts `holdings` down (which wakes requests waiting
  // for a fetch), closes every connection and joins its thread.
  void run(Holdings& holdings, const std::atomic<bool>& stop, std::chrono::seconds idle_timeout,
           const std::function<void(const std::string&)>& log);

 private:
  HttpServer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelswarm::gateway
