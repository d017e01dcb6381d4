// Publisher channels: the newest release of (publisher key, release name), announced as a BEP 44
// mutable item on the BitTorrent DHT so that `fetch KEY/NAME` needs no tracker, hub or server.
//
//   public key  the publisher's Ed25519 key (the minisign key that signs the manifests)
//   salt        the release name
//   seq         the release version
//   value       bencoded {"ih": v2 info-hash (32 bytes), "tr": [tracker URLs], "v": version,
//               "ws": [web seed URLs]}; "tr" and "ws" only when not empty
//   signature   Ed25519 over BEP 44's "4:salt<len>:<salt>3:seqi<seq>e1:v<value>"
//
// This header holds what needs no network: the item's format, signing and checking, the
// `KEY/NAME` syntax, and the record of items seen on this machine. The DHT side is in swarm.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/minisign.hpp"

namespace modelswarm {

// BEP 44's limits: a value of at most 1000 bytes (bencoded), a salt of at most 64.
inline constexpr size_t kMaxChannelValueBytes = 1000;
inline constexpr size_t kMaxChannelNameBytes = 64;

struct ChannelRef {
  PublicKey key;
  std::string name;
  // "RW.../NAME"
  std::string to_string() const;
};

// True when `source` is written as a channel, KEY/NAME, rather than a magnet link, a URL or an
// existing file: KEY is a minisign public key ("RW...", 56 characters), a key id (16 hex
// digits) or a path ending in ".pub".
bool looks_like_channel(std::string_view source);
// Parses KEY/NAME. KEY: "RW..."; a key id of the trust store; or a .pub file. NAME: a valid
// release name of at most kMaxChannelNameBytes. Errors: invalid_argument (syntax, a key id
// not in the trust store), io (a .pub file that cannot be read), format (a bad key).
Result<ChannelRef> parse_channel_ref(std::string_view text);

struct ChannelItem {
  ChannelRef channel;
  std::int64_t seq = 0;        // the release version
  std::string info_hash;       // v2, 64 hex digits
  std::vector<std::string> trackers;
  std::vector<std::string> web_seeds;
  std::string value;           // the bencoded value exactly as signed
  Ed25519Signature signature{};
};

// The item that announces the release in `dir` (packed: manifest, signature, torrent) on its
// publisher's channel: the manifest must be signed by `key` (trust error otherwise) and the
// torrent must match it (content or format error). Trackers and web seeds: the torrent's, then
// `extra_trackers` and `extra_web_seeds`, without repeats.
Result<ChannelItem> channel_item_for_release(const std::filesystem::path& dir, const SecretKey& key,
                                             const std::vector<std::string>& extra_trackers,
                                             const std::vector<std::string>& extra_web_seeds);

// BEP 44's signed bytes for (salt, seq, value).
std::string channel_signing_buffer(std::string_view salt, std::int64_t seq, std::string_view value);

// Builds and signs the item for `version` of `channel` with the publisher's secret key, whose
// public half must be channel.key (else trust error). Errors: invalid_argument (a version above
// 2^63-1, a name too long for a salt, a value over kMaxChannelValueBytes, a bad info-hash).
Result<ChannelItem> make_channel_item(const ChannelRef& channel, std::uint64_t version,
                                      const std::string& info_hash_hex,
                                      const std::vector<std::string>& trackers,
                                      const std::vector<std::string>& web_seeds,
                                      const SecretKey& key);

// Checks an item as received (the DHT's value bytes, seq and signature for `channel`) and
// decodes it. Trust error: the signature is not the channel key's. Format error: a value that
// is not canonical bencoding of the dictionary above, or whose "v" differs from seq.
Result<ChannelItem> open_channel_item(const ChannelRef& channel, std::int64_t seq,
                                      std::string_view value, const Ed25519Signature& signature);

// The magnet link of the item's release: v2 info-hash, name, trackers and web seeds.
std::string channel_magnet(const ChannelItem& item);

// state_dir()/channels.json: per (key id, name) the newest item this machine has seen (fetched,
// resolved or published), kept verbatim so that `seed` can put it again for the publisher.
// Recording an item with a lower seq than the one kept changes nothing.
Status record_channel_item(const ChannelItem& item);
// The item kept for `channel`, checked again (a damaged record is a format error).
Result<std::optional<ChannelItem>> recorded_channel_item(const ChannelRef& channel);

// The lowest seq this machine accepts for `channel`: the highest of the version recorded as seen
// for (key id, name) (trust.hpp) and the seq of the recorded item; 0 when neither exists.
Result<std::int64_t> channel_floor(const ChannelRef& channel);

}  // namespace modelswarm
