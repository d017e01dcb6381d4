// A channel item's value, its BEP 44 signature, and its magnet link (channel.hpp).
#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>

#include <limits>

#include "modelswarm/channel.hpp"
#include "modelswarm/manifest.hpp"
#include "modelswarm/sha256.hpp"

namespace modelswarm {

namespace lt = libtorrent;

namespace {

constexpr size_t kMaxUrlBytes = 512;

std::string encode_value(const ChannelItem& item, const Sha256Digest& ih) {
  lt::entry v(lt::entry::dictionary_t);
  v["ih"] = std::string(reinterpret_cast<const char*>(ih.data()), ih.size());
  v["v"] = lt::entry::integer_type(item.seq);
  auto list = [](const std::vector<std::string>& urls) {
    lt::entry l(lt::entry::list_t);
    for (const auto& u : urls) l.list().emplace_back(u);
    return l;
  };
  if (!item.trackers.empty()) v["tr"] = list(item.trackers);
  if (!item.web_seeds.empty()) v["ws"] = list(item.web_seeds);
  std::string out;
  lt::bencode(std::back_inserter(out), v);
  return out;
}

Status check_urls(const std::vector<std::string>& urls, const char* what,
                  std::initializer_list<std::string_view> schemes) {
  for (const auto& u : urls) {
    bool scheme_ok = false;
    for (auto s : schemes) scheme_ok = scheme_ok || u.rfind(s, 0) == 0;
    bool printable = true;
    for (unsigned char c : u) printable = printable && c > 0x20 && c < 0x7f;
    if (!scheme_ok || !printable || u.size() > kMaxUrlBytes)
      return Error::invalid_argument(std::string(what) + " '" + u + "': not a URL a channel can carry");
  }
  return Status::success();
}

Result<std::vector<std::string>> url_list(const lt::bdecode_node& dict, const char* key,
                                          const std::string& where) {
  std::vector<std::string> out;
  lt::bdecode_node l = dict.dict_find(key);
  if (!l) return out;
  if (l.type() != lt::bdecode_node::list_t)
    return Error::format(where + ": \"" + key + "\" is not a list");
  for (int i = 0; i < l.list_size(); ++i) {
    lt::bdecode_node e = l.list_at(i);
    if (e.type() != lt::bdecode_node::string_t || e.string_length() > static_cast<int>(kMaxUrlBytes))
      return Error::format(where + ": \"" + key + "\" holds something other than a URL");
    out.emplace_back(e.string_value());
  }
  return out;
}

}  // namespace

std::string ChannelRef::to_string() const { return key.to_base64() + "/" + name; }

std::string channel_signing_buffer(std::string_view salt, std::int64_t seq, std::string_view value) {
  std::string b;
  if (!salt.empty()) b += "4:salt" + std::to_string(salt.size()) + ":" + std::string(salt);
  b += "3:seqi" + std::to_string(seq) + "e1:v";
  b += value;
  return b;
}

Result<ChannelItem> make_channel_item(const ChannelRef& channel, std::uint64_t version,
                                      const std::string& info_hash_hex,
                                      const std::vector<std::string>& trackers,
                                      const std::vector<std::string>& web_seeds,
                                      const SecretKey& key) {
  if (key.public_key() != channel.key)
    return Error::trust("the secret key (id " + key_id_hex(key.id()) + ") is not the channel's key " +
                        key_id_hex(channel.key.id));
  MS_TRY(validate_release_name(channel.name));
  if (channel.name.size() > kMaxChannelNameBytes)
    return Error::invalid_argument("release name \"" + channel.name + "\": a channel name (a BEP 44 salt) is at most " +
                                   std::to_string(kMaxChannelNameBytes) + " bytes");
  if (version > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return Error::invalid_argument("version " + std::to_string(version) + " is above a DHT sequence number's 2^63-1");
  auto ih = sha256_from_hex(info_hash_hex);
  if (!ih) return Error::invalid_argument("'" + info_hash_hex + "' is not a v2 info-hash (64 hex digits)");
  MS_TRY(check_urls(trackers, "tracker", {"http://", "https://", "udp://"}));
  MS_TRY(check_urls(web_seeds, "web seed", {"http://", "https://"}));

  ChannelItem item;
  item.channel = channel;
  item.seq = static_cast<std::int64_t>(version);
  item.info_hash = to_hex(*ih);
  item.trackers = trackers;
  item.web_seeds = web_seeds;
  item.value = encode_value(item, *ih);
  if (item.value.size() > kMaxChannelValueBytes)
    return Error::invalid_argument("the channel item would be " + std::to_string(item.value.size()) +
                                   " bytes, above BEP 44's " + std::to_string(kMaxChannelValueBytes) +
                                   ": give fewer or shorter tracker and web seed URLs");
  item.signature = sign_ed25519(channel_signing_buffer(channel.name, item.seq, item.value), key);
  return item;
}

Result<ChannelItem> open_channel_item(const ChannelRef& channel, std::int64_t seq,
                                      std::string_view value, const Ed25519Signature& signature) {
  const std::string where = "channel " + key_id_hex(channel.key.id) + "/" + channel.name;
  if (!verify_ed25519(channel_signing_buffer(channel.name, seq, value), signature, channel.key.pk))
    return Error::trust(where + ": the item's signature is not the publisher key's");
  if (value.size() > kMaxChannelValueBytes)
    return Error::format(where + ": the item is over " + std::to_string(kMaxChannelValueBytes) + " bytes");
  lt::error_code ec;
  lt::bdecode_node v = lt::bdecode(lt::span<const char>(value.data(), static_cast<long>(value.size())), ec,
                                   nullptr, 10, 200);
  if (ec || v.type() != lt::bdecode_node::dict_t)
    return Error::format(where + ": the item is not a bencoded dictionary");
  // Only canonical bencoding, so that a re-put of the decoded item carries the signed bytes.
  std::string again;
  lt::bencode(std::back_inserter(again), lt::entry(v));
  if (again != value) return Error::format(where + ": the item is not canonical bencoding");

  ChannelItem item;
  item.channel = channel;
  item.seq = seq;
  item.value = std::string(value);
  item.signature = signature;
  lt::bdecode_node ih = v.dict_find_string("ih");
  if (!ih || ih.string_length() != 32) return Error::format(where + ": the item has no 32-byte \"ih\"");
  auto ih_view = ih.string_value();
  item.info_hash = to_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(ih_view.data()), 32));
  lt::bdecode_node ver = v.dict_find_int("v");
  if (!ver || ver.int_value() != seq)
    return Error::format(where + ": the item's version is not its sequence number " + std::to_string(seq));
  MS_ASSIGN_OR_RETURN(item.trackers, url_list(v, "tr", where));
  MS_ASSIGN_OR_RETURN(item.web_seeds, url_list(v, "ws", where));
  return item;
}

namespace {
std::string uri_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}
}  // namespace

std::string channel_magnet(const ChannelItem& item) {
  std::string m = "magnet:?xt=urn:btmh:1220" + item.info_hash + "&dn=" + uri_escape(item.channel.name);
  for (const auto& t : item.trackers) m += "&tr=" + uri_escape(t);
  for (const auto& w : item.web_seeds) m += "&ws=" + uri_escape(w);
  return m;
}

}  // namespace modelswarm
