// Internal helpers shared by the minisign key and signature code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/minisign.hpp"

namespace modelswarm::detail {

// Calls sodium_init() once (thread-safe).
void ensure_sodium();

std::string base64_encode(const uint8_t* data, size_t size);
// Decodes standard padded base64; nullopt unless the decoded length is exactly `expected`.
std::optional<std::vector<uint8_t>> base64_decode_exact(std::string_view text, size_t expected);

// Splits text into lines (accepting "\n" or "\r\n"); fails when a line exceeds `max_line`
// or there are more than `max_lines` lines.
std::optional<std::vector<std::string_view>> split_lines(std::string_view text, size_t max_line,
                                                         size_t max_lines);

inline constexpr std::string_view kUntrustedPrefix = "untrusted comment: ";
inline constexpr std::string_view kTrustedPrefix = "trusted comment: ";

std::string_view trim(std::string_view s);

}  // namespace modelswarm::detail

namespace modelswarm {
// Grants the minisign code access to the secret bytes without making them public API.
struct SecretKeyAccess {
  static std::array<uint8_t, 64>& sk(SecretKey& k) { return k.sk_; }
  static const std::array<uint8_t, 64>& sk(const SecretKey& k) { return k.sk_; }
  static KeyId& id(SecretKey& k) { return k.id_; }
};
}  // namespace modelswarm
