// The KEY/NAME syntax of channels (channel.hpp).
#include <filesystem>

#include "modelswarm/channel.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/trust.hpp"

namespace modelswarm {

namespace {

// A minisign public key in base64: "Ed" | id (8) | pk (32) is 42 bytes, 56 characters.
constexpr size_t kPublicKeyChars = 56;

bool is_key_id(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<PublicKey> trusted_key_by_id(std::string_view id) {
  std::string wanted(id);
  for (auto& c : wanted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  MS_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, load_trusted_keys());
  for (const auto& k : keys)
    if (key_id_hex(k.id) == wanted) return k;
  return Error::invalid_argument("channel key id " + wanted +
                                 " is not in the trust store (modelswarm trust add RW...), "
                                 "or give the key itself");
}

}  // namespace

bool looks_like_channel(std::string_view source) {
  if (source.rfind("magnet:", 0) == 0 || source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0)
    return false;
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(std::string(source)), ec)) return false;
  auto slash = source.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == source.size()) return false;
  std::string_view key = source.substr(0, slash);
  return (key.size() == kPublicKeyChars && key.rfind("RW", 0) == 0) || is_key_id(key) || ends_with(key, ".pub");
}

Result<ChannelRef> parse_channel_ref(std::string_view text) {
  auto slash = text.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size())
    return Error::invalid_argument("channel '" + std::string(text) + "': expected KEY/NAME");
  std::string_view key = text.substr(0, slash);
  ChannelRef ref;
  ref.name = std::string(text.substr(slash + 1));
  if (Status st = validate_release_name(ref.name); !st.ok())
    return Error::invalid_argument("channel '" + std::string(text) + "': " + st.error().message);
  if (ref.name.size() > kMaxChannelNameBytes)
    return Error::invalid_argument("channel '" + std::string(text) + "': a channel name is at most " +
                                   std::to_string(kMaxChannelNameBytes) + " bytes (a BEP 44 salt)");
  if (is_key_id(key)) {
    MS_ASSIGN_OR_RETURN(ref.key, trusted_key_by_id(key));
  } else if (key.rfind("RW", 0) == 0 && key.size() == kPublicKeyChars) {
    MS_ASSIGN_OR_RETURN(ref.key, parse_public_key(key));
  } else if (ends_with(key, ".pub")) {
    MS_ASSIGN_OR_RETURN(ref.key, load_public_key(key));
  } else {
    return Error::invalid_argument("channel '" + std::string(text) +
                                   "': KEY must be a public key (RW...), a trusted key id or a .pub file");
  }
  return ref;
}

}  // namespace modelswarm
