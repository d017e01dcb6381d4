#include <sodium.h>

#include <cstring>

#include "crypto/minisign_util.hpp"
#include "modelswarm/minisign.hpp"

namespace modelswarm {

using detail::ensure_sodium;

namespace {

constexpr size_t kSigStructBytes = 2 + 8 + 64;

// BLAKE2b-512 of the message: the "prehashed" form minisign signs by default.
std::array<uint8_t, 64> prehash(std::string_view message) {
  std::array<uint8_t, 64> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const uint8_t*>(message.data()),
                     message.size(), nullptr, 0);
  return h;
}

std::vector<uint8_t> global_message(const Signature& s) {
  std::vector<uint8_t> m(s.sig.begin(), s.sig.end());
  m.insert(m.end(), s.trusted_comment.begin(), s.trusted_comment.end());
  return m;
}

bool has_line_break(std::string_view s) {
  return s.find('\n') != std::string_view::npos || s.find('\r') != std::string_view::npos;
}

}  // namespace

bool is_printable_comment(std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\t' || c >= 0x80) continue;
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

Result<Signature> parse_signature(std::string_view contents, std::string_view origin) {
  ensure_sodium();
  std::string o(origin);
  auto lines = detail::split_lines(contents, 8192, 5);
  if (!lines) return Error::format(o + ": signature file has an over-long line or too many lines");
  // A final empty line (after the last '\n') is not a line.
  while (!lines->empty() && lines->back().empty()) lines->pop_back();
  if (lines->size() != 4) return Error::format(o + ": signature file must have 4 lines");
  Signature s;
  std::string_view l0 = (*lines)[0], l2 = (*lines)[2];
  if (l0.substr(0, detail::kUntrustedPrefix.size()) != detail::kUntrustedPrefix ||
      l0.size() > 1024)
    return Error::format(o + ": untrusted comment line missing or too long");
  s.untrusted_comment = std::string(l0.substr(detail::kUntrustedPrefix.size()));
  auto raw = detail::base64_decode_exact(detail::trim((*lines)[1]), kSigStructBytes);
  if (!raw) return Error::format(o + ": signature has bad base64 or length");
  if ((*raw)[0] == 'E' && (*raw)[1] == 'D')
    s.prehashed = true;
  else if ((*raw)[0] == 'E' && (*raw)[1] == 'd')
    s.prehashed = false;
  else
    return Error::unsupported(o + ": unsupported signature algorithm");
  std::memcpy(s.key_id.data(), raw->data() + 2, 8);
  std::memcpy(s.sig.data(), raw->data() + 10, 64);
  if (l2.substr(0, detail::kTrustedPrefix.size()) != detail::kTrustedPrefix)
    return Error::format(o + ": trusted comment line missing");
  s.trusted_comment = std::string(l2.substr(detail::kTrustedPrefix.size()));
  if (s.trusted_comment.size() > kMaxTrustedCommentBytes)
    return Error::format(o + ": trusted comment too long");
  if (!is_printable_comment(s.trusted_comment))
    return Error::format(o + ": trusted comment contains unprintable characters");
  auto g = detail::base64_decode_exact(detail::trim((*lines)[3]), 64);
  if (!g) return Error::format(o + ": global signature has bad base64 or length");
  std::memcpy(s.global_sig.data(), g->data(), 64);
  return s;
}

std::string format_signature(const Signature& s) {
  uint8_t raw[kSigStructBytes];
  raw[0] = 'E';
  raw[1] = s.prehashed ? 'D' : 'd';
  std::memcpy(raw + 2, s.key_id.data(), 8);
  std::memcpy(raw + 10, s.sig.data(), 64);
  std::string out;
  out += detail::kUntrustedPrefix;
  out += s.untrusted_comment;
  out += '\n';
  out += detail::base64_encode(raw, sizeof raw);
  out += '\n';
  out += detail::kTrustedPrefix;
  out += s.trusted_comment;
  out += '\n';
  out += detail::base64_encode(s.global_sig.data(), 64);
  out += '\n';
  return out;
}

Result<Signature> sign_message(std::string_view message, const SecretKey& key,
                               std::string_view trusted_comment,
                               std::string_view untrusted_comment) {
  ensure_sodium();
  if (trusted_comment.size() > kMaxTrustedCommentBytes || !is_printable_comment(trusted_comment))
    return Error::invalid_argument("trusted comment is too long or not printable");
  if (untrusted_comment.size() > kMaxUntrustedCommentBytes || has_line_break(untrusted_comment))
    return Error::invalid_argument("untrusted comment is too long or has a line break");
  Signature s;
  s.prehashed = true;
  s.key_id = key.id();
  s.untrusted_comment = std::string(untrusted_comment);
  s.trusted_comment = std::string(trusted_comment);
  auto h = prehash(message);
  const auto& sk = SecretKeyAccess::sk(key);
  crypto_sign_detached(s.sig.data(), nullptr, h.data(), h.size(), sk.data());
  auto gm = global_message(s);
  crypto_sign_detached(s.global_sig.data(), nullptr, gm.data(), gm.size(), sk.data());
  // Never hand out a signature that would not verify (a corrupted key, a faulty machine).
  Status check = verify_signature(message, s, key.public_key());
  if (!check.ok()) return Error::internal("fresh signature does not verify: " + check.error().message);
  return s;
}

Status verify_signature(std::string_view message, const Signature& s, const PublicKey& key) {
  ensure_sodium();
  if (s.key_id != key.id)
    return Error::trust("signature was made by key " + key_id_hex(s.key_id) + ", not by " +
                        key_id_hex(key.id));
  int rc;
  if (s.prehashed) {
    auto h = prehash(message);
    rc = crypto_sign_verify_detached(s.sig.data(), h.data(), h.size(), key.pk.data());
  } else {
    rc = crypto_sign_verify_detached(s.sig.data(), reinterpret_cast<const uint8_t*>(message.data()),
                                     message.size(), key.pk.data());
  }
  if (rc != 0) return Error::trust("signature verification failed (key " + key_id_hex(key.id) + ")");
  auto gm = global_message(s);
  if (crypto_sign_verify_detached(s.global_sig.data(), gm.data(), gm.size(), key.pk.data()) != 0)
    return Error::trust("trusted comment signature verification failed (key " + key_id_hex(key.id) + ")");
  return Status::success();
}

Ed25519Signature sign_ed25519(std::string_view message, const SecretKey& key) {
  ensure_sodium();
  Ed25519Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(message.data()),
                       message.size(), SecretKeyAccess::sk(key).data());
  return sig;
}

bool verify_ed25519(std::string_view message, const Ed25519Signature& sig,
                    const std::array<uint8_t, 32>& public_key) {
  ensure_sodium();
  return crypto_sign_verify_detached(sig.data(), reinterpret_cast<const uint8_t*>(message.data()),
                                     message.size(), public_key.data()) == 0;
}

}  // namespace modelswarm
