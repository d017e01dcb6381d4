// Range requests and URL decoding for the gateway (hf_api.hpp).
#include <charconv>

#include "hf_api.hpp"

namespace modelswarm::gateway {

namespace {

bool parse_u64(std::string_view s, std::uint64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool parse_range(const std::string& header, std::uint64_t size, std::uint64_t* first, std::uint64_t* length,
                 bool* whole) {
  *whole = true;
  *first = 0;
  *length = size;
  std::string_view h(header);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.substr(0, 6) != "bytes=") return true;
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return true;
  auto dash = h.find('-');
  if (dash == std::string_view::npos) return true;
  std::string_view a = h.substr(0, dash), b = h.substr(dash + 1);
  std::uint64_t x = 0, y = 0;
  if (a.empty()) {  // the last N bytes
    if (!parse_u64(b, &y)) return true;
    *whole = false;
    if (y == 0 || size == 0) return false;
    y = std::min(y, size);
    *first = size - y;
    *length = y;
    return true;
  }
  if (!parse_u64(a, &x)) return true;
  if (!b.empty()) {
    if (!parse_u64(b, &y) || y < x) return true;
  } else {
    y = size == 0 ? 0 : size - 1;
  }
  *whole = false;
  if (x >= size) return false;
  y = std::min(y, size - 1);
  *first = x;
  *length = y - x + 1;
  return true;
}

bool url_decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return false;
    out->push_back(c);
  }
  return true;
}

}  // namespace modelswarm::gateway
