// UTF-8 validation for names read from untrusted files.
#pragma once

#include <string>
#include <string_view>

namespace modelswarm::format {

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s);

// A printable rendering of an untrusted name for an error message: invalid bytes and control
// characters become \xNN, and long names are cut.
std::string printable_name(std::string_view s, size_t max_chars = 80);

}  // namespace modelswarm::format
