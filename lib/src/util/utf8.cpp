#include "util/utf8.hpp"

namespace modelswarm::utf8 {

size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

Decoded decode_at(std::string_view s, size_t i) {
  Decoded d;
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) {
    d.cp = lead;
    d.complete = d.valid = true;
    return d;
  }
  const size_t n = sequence_length(lead);
  if (n == 1 || i + n > s.size()) return d;
  uint32_t cp = lead & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return d;
    cp = (cp << 6) | (c & 0x3F);
  }
  d.cp = cp;
  d.len = n;
  d.complete = true;
  if (n == 2) d.valid = cp >= 0x80;
  else if (n == 3) d.valid = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
  else d.valid = cp >= 0x10000 && cp <= 0x10FFFF;
  return d;
}

void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace modelswarm::utf8
