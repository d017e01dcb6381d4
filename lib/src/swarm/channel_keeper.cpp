// Seed's channel keep-alive: look each channel up, then put the newest item seen (on the DHT or
// in channels.json) back verbatim, every refresh interval.
#include "channel_keeper.hpp"

namespace modelswarm::swarm {

namespace {
using Clock = std::chrono::steady_clock;
// A lookup that has not ended by then is taken as ended with what it found.
constexpr std::chrono::seconds kLookupLimit{60};
}  // namespace

ChannelKeeper::ChannelKeeper(Session::Impl& s, std::vector<ChannelRef> channels, std::chrono::seconds refresh)
    : s_(s), refresh_(refresh) {
  if (!s.settings.dht || refresh.count() <= 0) return;
  for (auto& c : channels) {
    bool dup = false;
    for (const auto& k : kept_) dup = dup || (k.ref.key == c.key && k.ref.name == c.name);
    if (!dup) kept_.push_back({std::move(c), std::nullopt, Clock::now(), std::nullopt});
  }
}

void ChannelKeeper::emit(const ChannelRef& ref, const std::string& message, Event::Kind kind) const {
  Event e;
  e.kind = kind;
  e.name = ref.name;
  e.message = "channel " + key_id_hex(ref.key.id) + "/" + ref.name + ": " + message;
  s_.emit(e);
}

bool ChannelKeeper::on_alert(const lt::alert* a) {
  if (kept_.empty()) return false;
  if (auto* m = lt::alert_cast<lt::dht_mutable_item_alert>(a)) {
    for (Kept& k : kept_) {
      if (!is_about(k.ref, m->key, m->salt)) continue;
      auto item = item_from_alert(k.ref, *m);
      if (!item) emit(k.ref, "skipped a DHT item: " + item.error().message, Event::Kind::warning);
      else if (*item && (!k.best || (*item)->seq > k.best->seq)) k.best = std::move(*item);
      if (m->authoritative && k.lookup_since) finish_lookup(k, Clock::now());
    }
    return true;
  }
  if (auto* p = lt::alert_cast<lt::dht_put_alert>(a)) {
    for (Kept& k : kept_)
      if (is_about(k.ref, p->public_key, p->salt))
        emit(k.ref, "version " + std::to_string(p->seq) + " put on " + std::to_string(p->num_success) + " DHT nodes");
    return true;
  }
  return false;
}

void ChannelKeeper::finish_lookup(Kept& k, Clock::time_point now) {
  k.lookup_since.reset();
  k.next_round = now + refresh_;
  std::optional<ChannelItem> item = std::move(k.best);
  k.best.reset();
  if (item) {
    if (Status st = record_channel_item(*item); !st.ok()) emit(k.ref, st.error().message, Event::Kind::warning);
  }
  // The record holds the newest item this machine has seen, possibly newer than the DHT's.
  auto recorded = recorded_channel_item(k.ref);
  if (!recorded) emit(k.ref, recorded.error().message, Event::Kind::warning);
  else if (*recorded && (!item || (*recorded)->seq > item->seq)) item = std::move(*recorded);
  if (!item) {
    emit(k.ref, "no item on the DHT nor here: nothing to keep alive (modelswarm publish puts one)");
    return;
  }
  start_put(*s_.ses, *item);
}

void ChannelKeeper::tick(Clock::time_point now) {
  if (kept_.empty()) return;
  if (nodes_ == 0) return;  // a lookup before the DHT knows a node would end at once, empty
  for (Kept& k : kept_) {
    if (k.lookup_since) {
      if (now - *k.lookup_since > kLookupLimit) finish_lookup(k, now);
    } else if (now >= k.next_round) {
      k.lookup_since = now;
      start_get(*s_.ses, k.ref);
    }
  }
}

}  // namespace modelswarm::swarm
