// Channel items on the DHT: lookups and puts as one-shot operations (swarm.hpp).
#include "channel_dht.hpp"

#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/kademlia/types.hpp>

#include <algorithm>
#include <thread>

#include "session_impl.hpp"

namespace modelswarm::swarm {

namespace {

using Clock = std::chrono::steady_clock;

// libtorrent's entry of an item's value. Values are canonical bencoding (open_channel_item and
// make_channel_item check it), so bencoding this entry again gives back the signed bytes.
lt::entry value_entry(const std::string& value) {
  lt::error_code ec;
  lt::bdecode_node n = lt::bdecode(lt::span<const char>(value.data(), static_cast<long>(value.size())), ec);
  return ec ? lt::entry() : lt::entry(n);
}

Status require_dht(const Session::Impl& s) {
  if (!s.settings.dht)
    return Error::invalid_argument("channels live on the DHT, which is off in this session (drop --no-dht, "
                                   "or add --dht to --profile lan)");
  return Status::success();
}

// Waits until the routing table holds a node. Other alerts go to translate_common_alert.
Status wait_for_nodes(Session::Impl& s, std::chrono::seconds wait, const std::atomic<bool>& stop) {
  const auto deadline = Clock::now() + wait;
  auto next_stats = Clock::now();
  int nodes = 0;
  while (nodes == 0) {
    if (stop.load()) return Error::interrupted("interrupted while joining the DHT");
    if (wait.count() > 0 && Clock::now() >= deadline) {
      std::string boot;
      for (const auto& b : s.settings.dht_bootstrap) boot += (boot.empty() ? "" : ", ") + b;
      return Error::network("no DHT node answered within " + std::to_string(wait.count()) + " s (bootstrap: " +
                            (boot.empty() ? std::string("libtorrent's public routers") : boot) + ")");
    }
    if (Clock::now() >= next_stats) {
      s.ses->post_dht_stats();
      next_stats = Clock::now() + std::chrono::milliseconds(250);
    }
    for (lt::alert* a : s.pop_alerts(std::chrono::milliseconds(100))) {
      if (auto* st = lt::alert_cast<lt::dht_stats_alert>(a)) nodes = std::max(nodes, routing_nodes(*st));
      else translate_common_alert(s, a);
    }
  }
  return Status::success();
}

void warn(const Session::Impl& s, const ChannelRef& channel, const std::string& message) {
  Event e;
  e.kind = Event::Kind::warning;
  e.name = channel.name;
  e.message = message;
  s.emit(e);
}

}  // namespace

std::array<char, 32> dht_key(const PublicKey& key) {
  std::array<char, 32> k{};
  std::copy(key.pk.begin(), key.pk.end(), reinterpret_cast<uint8_t*>(k.data()));
  return k;
}

bool is_about(const ChannelRef& channel, const std::array<char, 32>& key, const std::string& salt) {
  return key == dht_key(channel.key) && salt == channel.name;
}

void start_get(lt::session& ses, const ChannelRef& channel) { ses.dht_get_item(dht_key(channel.key), channel.name); }

Result<std::optional<ChannelItem>> item_from_alert(const ChannelRef& channel, const lt::dht_mutable_item_alert& a) {
  if (a.item.type() == lt::entry::undefined_t) return std::optional<ChannelItem>();
  std::string value;
  lt::bencode(std::back_inserter(value), a.item);
  Ed25519Signature sig{};
  std::copy(a.signature.begin(), a.signature.end(), reinterpret_cast<char*>(sig.data()));
  MS_ASSIGN_OR_RETURN(ChannelItem item, open_channel_item(channel, a.seq, value, sig));
  return std::optional<ChannelItem>(std::move(item));
}

void start_put(lt::session& ses, const ChannelItem& item) {
  lt::entry value = value_entry(item.value);
  std::array<char, 64> sig{};
  std::copy(item.signature.begin(), item.signature.end(), reinterpret_cast<uint8_t*>(sig.data()));
  const std::int64_t seq = item.seq;
  // Runs on libtorrent's network thread: it only copies what it was given.
  ses.dht_put_item(
      dht_key(item.channel.key),
      [value, sig, seq](lt::entry& v, std::array<char, 64>& s, std::int64_t& q, const std::string&) {
        v = value;
        s = sig;
        q = seq;
      },
      item.channel.name);
}

int routing_nodes(const lt::dht_stats_alert& a) {
  int n = 0;
  for (const lt::dht_routing_bucket& b : a.routing_table) n += b.num_nodes;
  return n;
}

Result<std::optional<ChannelItem>> resolve_channel(Session& session, const ChannelRef& channel,
                                                   const ChannelLookupOptions& o, const std::atomic<bool>& stop) {
  Session::Impl& s = SessionAccess::of(session);
  MS_TRY(require_dht(s));
  MS_TRY(wait_for_nodes(s, o.dht_wait, stop));
  // A node that has just joined knows few others, and its first lookup may end before it
  // reaches the nodes holding the item: an empty answer is asked again until the timeout.
  std::optional<ChannelItem> best;
  const auto deadline = Clock::now() + o.timeout;
  do {
    start_get(*s.ses, channel);
    bool done = false;
    while (!done && Clock::now() < deadline) {
      if (stop.load()) return Error::interrupted("interrupted while looking up " + channel.to_string());
      for (lt::alert* a : s.pop_alerts(std::chrono::milliseconds(100))) {
        auto* m = lt::alert_cast<lt::dht_mutable_item_alert>(a);
        if (!m || !is_about(channel, m->key, m->salt)) {
          translate_common_alert(s, a);
          continue;
        }
        auto item = item_from_alert(channel, *m);
        if (!item) warn(s, channel, "skipped a DHT item: " + item.error().message);
        else if (*item && (!best || (*item)->seq > best->seq)) best = std::move(*item);
        done = done || m->authoritative;
      }
    }
    if (!best && Clock::now() + std::chrono::seconds(2) < deadline) std::this_thread::sleep_for(std::chrono::seconds(2));
  } while (!best && Clock::now() < deadline);
  return best;
}

Result<int> put_channel_item(Session& session, const ChannelItem& item, const ChannelLookupOptions& o,
                             const std::atomic<bool>& stop) {
  Session::Impl& s = SessionAccess::of(session);
  MS_TRY(require_dht(s));
  MS_TRY(wait_for_nodes(s, o.dht_wait, stop));
  start_put(*s.ses, item);
  const auto deadline = Clock::now() + o.timeout;
  while (Clock::now() < deadline) {
    if (stop.load()) return Error::interrupted("interrupted while putting " + item.channel.to_string());
    for (lt::alert* a : s.pop_alerts(std::chrono::milliseconds(100))) {
      auto* p = lt::alert_cast<lt::dht_put_alert>(a);
      if (p && is_about(item.channel, p->public_key, p->salt)) return p->num_success;
      translate_common_alert(s, a);
    }
  }
  return Error::network("the DHT put of " + item.channel.to_string() + " did not finish within " +
                        std::to_string(o.timeout.count()) + " s");
}

Status check_channel_floor(const ChannelItem& item) {
  MS_ASSIGN_OR_RETURN(std::int64_t floor, channel_floor(item.channel));
  if (item.seq < floor)
    return Error::trust("channel " + key_id_hex(item.channel.key.id) + "/" + item.channel.name + ": the DHT offers version " +
                        std::to_string(item.seq) + ", below version " + std::to_string(floor) +
                        " already seen here (a rollback); refusing it");
  return Status::success();
}

}  // namespace modelswarm::swarm
