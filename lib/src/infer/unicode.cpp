#include "infer/unicode.hpp"

#include <algorithm>

#include "util/utf8.hpp"

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

std::vector<Cp> utf8_decode(std::string_view text) {
  std::vector<Cp> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    // Lenient, as llama.cpp: any complete sequence is a codepoint, overlong forms included.
    utf8::Decoded d = utf8::decode_at(text, i);
    const auto b = static_cast<unsigned char>(text[i]);
    if (!d.complete) out.push_back({0x110000u + b, static_cast<uint32_t>(i), 1});
    else out.push_back({d.cp, static_cast<uint32_t>(i), static_cast<uint32_t>(d.len)});
    i += d.complete ? d.len : 1;
  }
  return out;
}

}  // namespace modelswarm::infer
