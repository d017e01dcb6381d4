#include "infer/unicode.hpp"

#include <algorithm>

namespace modelswarm::infer {

CpClass cp_class(uint32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CpClass::kLetter;
    if (cp >= '0' && cp <= '9') return CpClass::kNumber;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) return CpClass::kSpace;
    return CpClass::kOther;
  }
  const UnicodeRange* end = kUnicodeRanges + kUnicodeRangeCount;
  const UnicodeRange* it = std::upper_bound(kUnicodeRanges, end, cp,
                                            [](uint32_t c, const UnicodeRange& r) { return c < r.lo; });
  if (it == kUnicodeRanges) return CpClass::kOther;
  --it;
  return cp <= it->hi ? it->cls : CpClass::kOther;
}

size_t utf8_seq_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

std::vector<Cp> utf8_decode(std::string_view text) {
  std::vector<Cp> out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    size_t n = utf8_seq_len(b);
    uint32_t cp = 0;
    bool ok = n > 1 || b < 0x80;
    if (ok && n > 1) {
      if (i + n > text.size()) {
        ok = false;
      } else {
        cp = b & (0xFF >> (n + 1));
        for (size_t k = 1; k < n && ok; ++k) {
          auto c = static_cast<unsigned char>(text[i + k]);
          if ((c & 0xC0) != 0x80) ok = false;
          cp = (cp << 6) | (c & 0x3F);
        }
      }
    } else if (ok) {
      cp = b;
    }
    if (!ok) {
      out.push_back({0x110000u + b, static_cast<uint32_t>(i), 1});
      ++i;
      continue;
    }
    out.push_back({cp, static_cast<uint32_t>(i), static_cast<uint32_t>(n)});
    i += n;
  }
  return out;
}

void utf8_append(std::string& out, uint32_t cp) {
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

}  // namespace modelswarm::infer
