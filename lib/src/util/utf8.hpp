// The one UTF-8 decoder of the library. Two readers use it with different needs: the file
// parsers accept only strict UTF-8 (names read from untrusted files, format/utf8.hpp), while
// the tokenizer must keep every byte of any text and decodes leniently, as llama.cpp does
// (infer/unicode.hpp). Both views come from one decode, so they cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace modelswarm::utf8 {

// Bytes of the sequence that starts with `lead`, from the lead byte's bit pattern alone: 2 for
// 110xxxxx, 3 for 1110xxxx, 4 for 11110xxx, else 1 (ASCII, a stray continuation byte, 0xF8+).
size_t sequence_length(unsigned char lead);

struct Decoded {
  uint32_t cp = 0;        // the codepoint the bits spell (meaningful when `complete`)
  size_t len = 1;         // bytes it takes: sequence_length(lead) when complete, else 1
  bool complete = false;  // ASCII, or a multi-byte lead followed by all its continuation bytes
  bool valid = false;     // complete, and strict: shortest form, no surrogate, <= U+10FFFF
};

// Decodes the sequence at s[i]. REQUIRES: i < s.size().
Decoded decode_at(std::string_view s, size_t i);

// Appends the UTF-8 encoding of `cp` (REQUIRES: cp <= U+10FFFF).
void append(std::string& out, uint32_t cp);

}  // namespace modelswarm::utf8
