#include "format/utf8.hpp"

#include "util/utf8.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

namespace modelswarm::format {

namespace {
// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid.
size_t sequence_length(std::string_view s, size_t i) {
  utf8::Decoded d = utf8::decode_at(s, i);
  return d.valid ? d.len : 0;
}
}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path: names are almost always plain ASCII.
    if (static_cast<uint8_t>(s[i]) < 0x80) { ++i; continue; }
    size_t n = sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable_name(std::string_view s, size_t max_chars) {
  std::string out;
  size_t i = 0;
  while (i < s.size() && out.size() < max_chars) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : sequence_length(s, i);
    if (n == 1 && c >= 0x20 && c != 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else if (n > 1) {
      out.append(s.substr(i, n));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
      n = 1;
    }
    i += n;
  }
  if (i < s.size()) out += "...";
  return out;
}

}  // namespace modelswarm::format
