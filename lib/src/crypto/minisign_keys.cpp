#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "crypto/minisign_util.hpp"
#include "modelswarm/minisign.hpp"
#include "modelswarm/paths.hpp"

namespace modelswarm {

using detail::base64_decode_exact;
using detail::base64_encode;
using detail::ensure_sodium;

namespace {

constexpr size_t kPublicKeyBytes = 2 + 8 + 32;
// sig_alg, kdf_alg, chk_alg, salt, opslimit, memlimit, then keynum_sk (id, sk, checksum).
constexpr size_t kKeynumSkBytes = 8 + 64 + 32;
constexpr size_t kSecretKeyBytes = 2 + 2 + 2 + 32 + 8 + 8 + kKeynumSkBytes;
constexpr size_t kOffKeynumSk = kSecretKeyBytes - kKeynumSkBytes;
constexpr uint64_t kMaxMemlimit = 4ull << 30;
constexpr uint64_t kMaxOpslimit = 1ull << 36;

void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// BLAKE2b-256 over sig_alg | key id | sk, as minisign checks a decrypted key.
void key_checksum(const uint8_t* sig_alg, const uint8_t* keynum_sk, uint8_t out[32]) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, sig_alg, 2);
  crypto_generichash_update(&st, keynum_sk, 8 + 64);
  crypto_generichash_final(&st, out, 32);
}

// XORs `buf` with the scrypt stream derived from the password.
Status scrypt_xor(uint8_t* buf, size_t len, const std::string& password, const uint8_t* salt,
                  uint64_t opslimit, uint64_t memlimit, std::string_view origin) {
  std::vector<uint8_t> stream(len);
  if (crypto_pwhash_scryptsalsa208sha256(stream.data(), len, password.data(), password.size(), salt,
                                         opslimit, static_cast<size_t>(memlimit)) != 0) {
    sodium_memzero(stream.data(), len);
    return Error::io(std::string(origin) + ": scrypt key derivation failed (out of memory?)");
  }
  for (size_t i = 0; i < len; ++i) buf[i] ^= stream[i];
  sodium_memzero(stream.data(), len);
  return Status::success();
}

// Wipes a byte buffer on scope exit.
struct Wipe {
  uint8_t* p;
  size_t n;
  ~Wipe() { sodium_memzero(p, n); }
};

}  // namespace

std::string key_id_hex(const KeyId& id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(load_le64(id.data())));
  return buf;
}

std::string PublicKey::to_base64() const {
  uint8_t raw[kPublicKeyBytes];
  raw[0] = 'E';
  raw[1] = 'd';
  std::memcpy(raw + 2, id.data(), 8);
  std::memcpy(raw + 10, pk.data(), 32);
  return base64_encode(raw, sizeof raw);
}

std::string PublicKey::to_file() const {
  return std::string(detail::kUntrustedPrefix) + "minisign public key " + key_id_hex(id) + "\n" +
         to_base64() + "\n";
}

namespace {
// Names what a minisign base64 line holds, by its decoded length, for errors that tell a user
// who gave the wrong file what they gave and what was wanted.
const char* minisign_blob_kind(std::string_view base64) {
  std::string_view t = detail::trim(base64);
  if (base64_decode_exact(t, kSecretKeyBytes)) return "a minisign secret key";
  if (base64_decode_exact(t, kPublicKeyBytes)) return "a minisign public key";
  if (base64_decode_exact(t, 2 + 8 + 64)) return "a minisign signature";
  return nullptr;
}
}  // namespace

Result<PublicKey> parse_public_key(std::string_view base64) {
  ensure_sodium();
  std::string_view t = detail::trim(base64);
  auto raw = base64_decode_exact(t, kPublicKeyBytes);
  if (!raw) {
    const char* kind = minisign_blob_kind(t);
    if (kind) return Error::invalid_argument(std::string("this is ") + kind + ", where a public key (RW...) was expected");
    return Error::format("public key: not a minisign public key (bad base64 or length)");
  }
  if ((*raw)[0] != 'E' || (*raw)[1] != 'd')
    return Error::unsupported("public key: unsupported signature algorithm");
  PublicKey k;
  std::memcpy(k.id.data(), raw->data() + 2, 8);
  std::memcpy(k.pk.data(), raw->data() + 10, 32);
  return k;
}

Result<PublicKey> parse_public_key_file(std::string_view contents, std::string_view origin) {
  auto lines = detail::split_lines(contents, 1024, 3);
  if (!lines || lines->empty())
    return Error::format(std::string(origin) + ": not a minisign public key file");
  std::string_view key_line = (*lines)[0];
  if (key_line.substr(0, detail::kUntrustedPrefix.size()) == detail::kUntrustedPrefix) {
    if (lines->size() < 2) return Error::format(std::string(origin) + ": public key line missing");
    key_line = (*lines)[1];
  }
  auto k = parse_public_key(key_line);
  if (!k.ok()) return Error{k.error().code, std::string(origin) + ": " + k.error().message};
  return k;
}

Result<PublicKey> load_public_key(std::string_view arg) {
  auto direct = parse_public_key(arg);
  if (direct.ok()) return direct;
  // Never echo key material: a pasted secret key is named by its first characters only.
  if (direct.error().code == ErrorCode::invalid_argument)
    return Error::invalid_argument(std::string(arg.substr(0, 8)) + "...: " + direct.error().message);
  std::error_code ec;
  std::filesystem::path p{std::string(arg)};
  if (!std::filesystem::is_regular_file(p, ec))
    return Error::invalid_argument((arg.size() > 64 ? std::string(arg.substr(0, 8)) + "..." : std::string(arg)) +
                                   ": neither a public key (RW...) nor a key file");
  MS_ASSIGN_OR_RETURN(std::string contents, read_small_file(p, 4096));
  return parse_public_key_file(contents, p.string());
}

SecretKey::~SecretKey() { sodium_memzero(sk_.data(), sk_.size()); }
SecretKey::SecretKey(SecretKey&& o) noexcept : id_(o.id_), sk_(o.sk_) {
  sodium_memzero(o.sk_.data(), o.sk_.size());
}
SecretKey& SecretKey::operator=(SecretKey&& o) noexcept {
  if (this != &o) {
    id_ = o.id_;
    sk_ = o.sk_;
    sodium_memzero(o.sk_.data(), o.sk_.size());
  }
  return *this;
}

PublicKey SecretKey::public_key() const {
  PublicKey k;
  k.id = id_;
  crypto_sign_ed25519_sk_to_pk(k.pk.data(), sk_.data());
  return k;
}

KeyPair generate_key_pair() {
  ensure_sodium();
  KeyPair kp;
  auto& sk = SecretKeyAccess::sk(kp.secret_key);
  randombytes_buf(SecretKeyAccess::id(kp.secret_key).data(), 8);
  crypto_sign_keypair(kp.public_key.pk.data(), sk.data());
  kp.public_key.id = kp.secret_key.id();
  return kp;
}

Result<std::string> format_secret_key_file(const SecretKey& key,
                                           const std::optional<std::string>& password,
                                           const KdfLimits& limits) {
  ensure_sodium();
  uint8_t raw[kSecretKeyBytes] = {};
  Wipe wipe{raw, sizeof raw};
  raw[0] = 'E';
  raw[1] = 'd';
  if (password) {
    raw[2] = 'S';
    raw[3] = 'c';
  }
  raw[4] = 'B';
  raw[5] = '2';
  uint8_t* salt = raw + 6;
  uint8_t* keynum_sk = raw + kOffKeynumSk;
  std::memcpy(keynum_sk, key.id().data(), 8);
  std::memcpy(keynum_sk + 8, SecretKeyAccess::sk(key).data(), 64);
  key_checksum(raw, keynum_sk, keynum_sk + 72);
  if (password) {
    randombytes_buf(salt, 32);
    store_le64(raw + 38, limits.opslimit);
    store_le64(raw + 46, limits.memlimit);
    MS_TRY(scrypt_xor(keynum_sk, kKeynumSkBytes, *password, salt, limits.opslimit, limits.memlimit,
                      "secret key"));
  }
  std::string comment = password ? "minisign encrypted secret key" : "minisign secret key (unencrypted)";
  std::string b64 = base64_encode(raw, sizeof raw);
  std::string out = std::string(detail::kUntrustedPrefix) + comment + "\n" + b64 + "\n";
  sodium_memzero(b64.data(), b64.size());
  return out;
}

namespace {

struct RawSecretKey {
  uint8_t raw[kSecretKeyBytes] = {};
  ~RawSecretKey() { sodium_memzero(raw, sizeof raw); }
};

Status decode_secret_key(std::string_view contents, std::string_view origin, RawSecretKey& out) {
  ensure_sodium();
  auto lines = detail::split_lines(contents, 1024, 3);
  if (!lines || lines->size() < 2 ||
      (*lines)[0].substr(0, detail::kUntrustedPrefix.size()) != detail::kUntrustedPrefix)
    return Error::format(std::string(origin) + ": not a minisign secret key file");
  auto raw = base64_decode_exact(detail::trim((*lines)[1]), kSecretKeyBytes);
  if (!raw) {
    if (const char* kind = minisign_blob_kind((*lines)[1]))
      return Error::invalid_argument(std::string(origin) + ": this is " + kind +
                                     ", where the secret key (the .key file keygen wrote) was expected");
    return Error::format(std::string(origin) + ": secret key has bad base64 or length");
  }
  std::memcpy(out.raw, raw->data(), kSecretKeyBytes);
  sodium_memzero(raw->data(), raw->size());
  if (out.raw[0] != 'E' || out.raw[1] != 'd')
    return Error::unsupported(std::string(origin) + ": unsupported signature algorithm");
  if (out.raw[4] != 'B' || out.raw[5] != '2')
    return Error::unsupported(std::string(origin) + ": unsupported checksum algorithm");
  bool scrypt = out.raw[2] == 'S' && out.raw[3] == 'c';
  bool none = out.raw[2] == 0 && out.raw[3] == 0;
  if (!scrypt && !none)
    return Error::unsupported(std::string(origin) + ": unsupported key derivation function");
  return Status::success();
}

}  // namespace

Result<bool> secret_key_file_is_encrypted(std::string_view contents, std::string_view origin) {
  RawSecretKey k;
  MS_TRY(decode_secret_key(contents, origin, k));
  return k.raw[2] == 'S';
}

Result<SecretKey> parse_secret_key_file(std::string_view contents, std::string_view origin,
                                        const std::optional<std::string>& password) {
  RawSecretKey k;
  MS_TRY(decode_secret_key(contents, origin, k));
  uint8_t* keynum_sk = k.raw + kOffKeynumSk;
  bool encrypted = k.raw[2] == 'S';
  if (encrypted) {
    if (!password)
      return Error::invalid_argument(std::string(origin) + ": the secret key is encrypted; a password is needed");
    uint64_t ops = load_le64(k.raw + 38), mem = load_le64(k.raw + 46);
    if (mem > kMaxMemlimit || ops > kMaxOpslimit)
      return Error::format(std::string(origin) + ": scrypt limits out of range");
    MS_TRY(scrypt_xor(keynum_sk, kKeynumSkBytes, *password, k.raw + 6, ops, mem, origin));
  }
  uint8_t chk[32];
  Wipe wipe{chk, sizeof chk};
  key_checksum(k.raw, keynum_sk, chk);
  // minisign -W leaves the checksum of an unencrypted key zeroed; only a filled one is checked.
  bool zero_chk = sodium_is_zero(keynum_sk + 72, 32);
  if ((encrypted || !zero_chk) && sodium_memcmp(chk, keynum_sk + 72, 32) != 0)
    return encrypted ? Error::trust(std::string(origin) + ": wrong password for this secret key")
                     : Error::format(std::string(origin) + ": secret key checksum mismatch");
  SecretKey key;
  std::memcpy(SecretKeyAccess::id(key).data(), keynum_sk, 8);
  std::memcpy(SecretKeyAccess::sk(key).data(), keynum_sk + 8, 64);
  // The public half stored inside sk must match its seed, or signatures would not verify.
  uint8_t pk[32], seed_sk[64];
  Wipe wipe2{seed_sk, sizeof seed_sk};
  crypto_sign_seed_keypair(pk, seed_sk, keynum_sk + 8);
  if (std::memcmp(pk, keynum_sk + 8 + 32, 32) != 0)
    return Error::format(std::string(origin) + ": secret key is inconsistent");
  return key;
}

Status write_key_pair(const std::filesystem::path& secret_path,
                      const std::filesystem::path& public_path, const KeyPair& pair,
                      const std::optional<std::string>& password, bool overwrite,
                      const KdfLimits& limits) {
  std::error_code ec;
  if (!overwrite) {
    for (const auto& p : {secret_path, public_path})
      if (std::filesystem::exists(std::filesystem::symlink_status(p, ec)))
        return Error::invalid_argument(p.string() + ": already exists (use --force to overwrite)");
  }
  MS_ASSIGN_OR_RETURN(std::string sk_file, format_secret_key_file(pair.secret_key, password, limits));
  Status st = write_file_atomic(secret_path, sk_file, 0600);
  sodium_memzero(sk_file.data(), sk_file.size());
  MS_TRY(st);
  return write_file_atomic(public_path, pair.public_key.to_file(), 0644);
}

}  // namespace modelswarm
