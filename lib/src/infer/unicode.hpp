// Text as codepoints and the few Unicode character classes the BPE pre-tokenizers need. Hand-written
// instead of std::regex: std::regex cannot express \p{L} and is slow on long texts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modelswarm::infer {

enum class CpClass : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };

struct UnicodeRange {
  uint32_t lo, hi;
  CpClass cls;
};
extern const UnicodeRange kUnicodeRanges[];
extern const size_t kUnicodeRangeCount;

CpClass cp_class(uint32_t cp);

// One decoded codepoint and the bytes it came from. Invalid UTF-8 bytes decode one by one to
// codepoints of class kOther (0x110000 + byte) so that no input byte is ever lost.
struct Cp {
  uint32_t cp;
  uint32_t offset;  // byte offset in the text
  uint32_t len;     // bytes
};
// Decoded with util/utf8.hpp, leniently (overlong forms and surrogates are codepoints too).
std::vector<Cp> utf8_decode(std::string_view text);

}  // namespace modelswarm::infer
