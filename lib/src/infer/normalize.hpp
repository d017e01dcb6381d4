// Unicode normalization that tokenizer.json normalizers ask for, applied to text before it is
// split into tokens.
#pragma once

#include <string>
#include <string_view>

namespace modelswarm::infer {

// Canonical composition (NFC), by utf8proc: "e" + U+0301 becomes "é" (U+00E9). Text that is
// not valid UTF-8 is returned unchanged (the byte-level tokenizer still encodes every byte).
std::string nfc(std::string_view text);

}  // namespace modelswarm::infer
