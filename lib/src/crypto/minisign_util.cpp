#include "crypto/minisign_util.hpp"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace modelswarm::detail {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init only fails when the system has no usable randomness source.
    if (sodium_init() < 0) std::abort();
  });
}

std::string base64_encode(const uint8_t* data, size_t size) {
  std::string out(sodium_base64_encoded_len(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode_exact(std::string_view text, size_t expected) {
  // One spare byte so an over-long input is detected as such instead of being truncated.
  std::vector<uint8_t> out(expected + 1);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  if (end != text.data() + text.size() || len != expected) return std::nullopt;
  out.resize(len);
  return out;
}

std::optional<std::vector<std::string_view>> split_lines(std::string_view text, size_t max_line,
                                                         size_t max_lines) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_line || lines.size() >= max_lines) return std::nullopt;
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

}  // namespace modelswarm::detail
