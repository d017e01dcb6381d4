// Ed25519 keys and signatures in minisign's formats, so that `minisign -V` checks what
// modelswarm signs and modelswarm checks what minisign signs, with keys made by either.
//
//   public key:  base64("Ed" | key id (8) | pk (32))                       e.g. "RWQ..."
//   secret key:  "untrusted comment: ...\n" base64("Ed" | kdf "Sc" or "\0\0" | "B2" | salt (32)
//                | opslimit (u64 le) | memlimit (u64 le) | enc(key id | sk (64) | BLAKE2b-256
//                checksum (32)))  -- enc is XOR with an scrypt stream when the kdf is "Sc"
//   signature:   "untrusted comment: ...\n" base64("ED" | key id | Ed25519(BLAKE2b-512(msg)))
//                "\ntrusted comment: TEXT\n" base64(Ed25519(sig | TEXT)) "\n"
// Every decoded length is checked exactly; every line has a maximum length; trusted comments
// must be printable. Secret material is wiped when it goes out of scope.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "modelswarm/error.hpp"

namespace modelswarm {

using KeyId = std::array<uint8_t, 8>;

// Key id as minisign prints it: the 8 bytes read as a little-endian u64, 16 upper-case hex digits.
std::string key_id_hex(const KeyId& id);

struct PublicKey {
  KeyId id{};
  std::array<uint8_t, 32> pk{};

  // "RW..." (the base64 line of a minisign .pub file).
  std::string to_base64() const;
  // Contents of a minisign .pub file (comment line + base64 line).
  std::string to_file() const;
  bool operator==(const PublicKey&) const = default;
};

// Parses the base64 form ("RW..."), surrounding whitespace allowed.
Result<PublicKey> parse_public_key(std::string_view base64);
// Parses the contents of a .pub file, or a bare base64 key. `origin` names it in errors.
Result<PublicKey> parse_public_key_file(std::string_view contents, std::string_view origin);
// Reads `arg` as a key: a base64 key string, or else the path of a .pub file.
Result<PublicKey> load_public_key(std::string_view arg);

// A decrypted secret key. Wipes itself on destruction; move-only.
class SecretKey {
 public:
  SecretKey() = default;
  ~SecretKey();
  SecretKey(SecretKey&&) noexcept;
  SecretKey& operator=(SecretKey&&) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  const KeyId& id() const { return id_; }
  PublicKey public_key() const;

 private:
  friend struct SecretKeyAccess;
  KeyId id_{};
  std::array<uint8_t, 64> sk_{};  // libsodium layout: seed (32) | pk (32)
};

struct KeyPair {
  PublicKey public_key;
  SecretKey secret_key;
};

// A fresh random key pair.
KeyPair generate_key_pair();

// scrypt cost stored in an encrypted secret key file. Defaults are minisign's (the libsodium
// "sensitive" limits: about 1 GiB of memory and a few seconds).
struct KdfLimits {
  uint64_t opslimit = 33554432;
  uint64_t memlimit = 1073741824;
};
// libsodium's "interactive" limits (16 MiB, well under a second): for CI keys and small machines.
inline constexpr KdfLimits kKdfInteractive{524288, 16777216};

// Contents of a minisign secret key file. With a password the key is scrypt-encrypted
// (kdf "Sc"); with nullopt it is stored unencrypted (kdf "\0\0", like `minisign -G -W`).
Result<std::string> format_secret_key_file(const SecretKey& key,
                                           const std::optional<std::string>& password,
                                           const KdfLimits& limits = {});

// True when the secret key file contents say the key is encrypted (a password is needed).
// Errors: format (not a minisign secret key file).
Result<bool> secret_key_file_is_encrypted(std::string_view contents, std::string_view origin);

// Parses (and decrypts) a secret key file. A wrong password is a trust error; a missing
// password for an encrypted key is invalid_argument. Files asking for scrypt limits above
// 4 GiB of memory are refused as malformed.
Result<SecretKey> parse_secret_key_file(std::string_view contents, std::string_view origin,
                                        const std::optional<std::string>& password);

// Writes a key pair: `base.key` (0600) and `base.pub`. Refuses to overwrite existing files
// unless `overwrite`.
Status write_key_pair(const std::filesystem::path& secret_path,
                      const std::filesystem::path& public_path, const KeyPair& pair,
                      const std::optional<std::string>& password, bool overwrite,
                      const KdfLimits& limits = {});

struct Signature {
  bool prehashed = true;  // "ED" (BLAKE2b-512 prehash); false for legacy "Ed"
  KeyId key_id{};
  std::array<uint8_t, 64> sig{};
  std::string untrusted_comment;
  std::string trusted_comment;
  std::array<uint8_t, 64> global_sig{};
};

inline constexpr size_t kMaxTrustedCommentBytes = 8192 - 18;
inline constexpr size_t kMaxUntrustedCommentBytes = 1024 - 20;

// Parses .minisig contents. Errors: format (with `origin` in the message).
Result<Signature> parse_signature(std::string_view contents, std::string_view origin);
std::string format_signature(const Signature& sig);

// Signs `message` in the prehashed form, then checks the result against the key's public half
// before returning it. `trusted_comment` must be printable and at most
// kMaxTrustedCommentBytes; `untrusted_comment` has no line breaks.
Result<Signature> sign_message(std::string_view message, const SecretKey& key,
                               std::string_view trusted_comment,
                               std::string_view untrusted_comment = "signature from modelswarm");

// Checks both the signature over `message` and the global signature over the trusted
// comment. Errors: trust (key id mismatch, bad signature).
Status verify_signature(std::string_view message, const Signature& sig, const PublicKey& key);

// Plain Ed25519 (RFC 8032) over `message`, without minisign's prehash or framing: the signature
// of a BEP 44 mutable DHT item (channel.hpp). Deterministic, so it equals what libtorrent's
// ed25519 code makes with the key pair derived from the same seed.
using Ed25519Signature = std::array<uint8_t, 64>;
Ed25519Signature sign_ed25519(std::string_view message, const SecretKey& key);
bool verify_ed25519(std::string_view message, const Ed25519Signature& sig,
                    const std::array<uint8_t, 32>& public_key);

// True when every byte of `s` is printable ASCII, a tab, or >= 0x80 (as minisign checks).
bool is_printable_comment(std::string_view s);

}  // namespace modelswarm
