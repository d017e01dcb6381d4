// The Hub's download API as request -> response, without sockets (http_server.cpp carries them).
// Routes, status codes, headers and JSON bodies follow what the Hub sends and what its clients
// (huggingface_hub, @huggingface/hub) read: X-Repo-Commit, ETag / X-Linked-Etag (the file's
// SHA-256, as for the Hub's LFS files), X-Linked-Size, Range, and X-Error-Code on 404s.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "holdings.hpp"

namespace modelswarm::gateway {

struct HttpRequest {
  std::string method;  // "GET", "HEAD", "POST"
  std::string target;  // path and query, as received
  std::string range;   // the Range header, if any
  std::string content_type;
  std::string body;
};

struct HttpResponse {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;       // when file_fd < 0
  int file_fd = -1;       // owned: the body is [file_offset, file_offset + file_length) of it
  std::uint64_t file_offset = 0;
  std::uint64_t file_length = 0;

  HttpResponse() = default;
  HttpResponse(HttpResponse&& o) noexcept { *this = std::move(o); }
  HttpResponse& operator=(HttpResponse&& o) noexcept {
    std::swap(status, o.status);
    std::swap(headers, o.headers);
    std::swap(body, o.body);
    std::swap(file_fd, o.file_fd);
    file_offset = o.file_offset;
    file_length = o.file_length;
    return *this;
  }
  ~HttpResponse() {
    if (file_fd >= 0) ::close(file_fd);
  }
  std::uint64_t content_length() const { return file_fd >= 0 ? file_length : body.size(); }
};

HttpResponse handle_request(Holdings& holdings, const HttpRequest& request);

// "bytes=A-B", "bytes=A-", "bytes=-N" against a file of `size` bytes. Returns false for a
// syntactically valid but unsatisfiable range (416); `*whole` is set when the header is absent,
// malformed or asks for several ranges (served whole, as RFC 9110 allows).
bool parse_range(const std::string& header, std::uint64_t size, std::uint64_t* first,
                 std::uint64_t* length, bool* whole);

// %XX decoding of one URL path part; false on a bad escape or a NUL.
bool url_decode(std::string_view in, std::string* out);

}  // namespace modelswarm::gateway
