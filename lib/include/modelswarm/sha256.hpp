// SHA-256 through OpenSSL's EVP interface (which uses the SHA-NI instructions when present).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace modelswarm {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental hasher. Not copyable; movable.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::span<const uint8_t> data) { update(data.data(), data.size()); }
  // Returns the digest and resets the hasher for reuse.
  Sha256Digest finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Sha256Digest sha256(const void* data, size_t size);
inline Sha256Digest sha256(std::string_view s) { return sha256(s.data(), s.size()); }

// Lower-case hex of any byte string, and the reverse: nullopt unless lower-case hex digits in
// pairs (the canonical form; upper case is refused), and for a digest exactly 64 of them.
std::string to_hex(std::span<const uint8_t> bytes);
std::optional<std::string> bytes_from_hex(std::string_view hex);
std::optional<Sha256Digest> sha256_from_hex(std::string_view hex);

}  // namespace modelswarm
