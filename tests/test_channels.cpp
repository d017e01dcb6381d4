// Publisher channels (BEP 44): the item format and its signatures against libtorrent's own
// ed25519 code, then a real private DHT of `modelswarm dht-node` processes on 127.0.0.x with no
// tracker and no --peer: publish, fetch by KEY/NAME, a seeder keeping a channel alive without
// the secret key, mirror following a new version, and the refusals (rollback, another key,
// an item whose release has another name or version).
#include <doctest/doctest.h>

#include <libtorrent/kademlia/ed25519.hpp>
#include <libtorrent/kademlia/item.hpp>

#include <regex>

#include "crypto/minisign_util.hpp"
#include "modelswarm/channel.hpp"
#include "modelswarm/swarm.hpp"
#include "modelswarm/trust.hpp"
#include "swarm_helpers.hpp"

using namespace swarmtest;
using modelswarm::ChannelItem;
using modelswarm::ChannelRef;

namespace {

constexpr int kExitTrust = 3;
constexpr int kExitNetwork = 5;
const std::string kIh = std::string(64, 'a');

std::string info_hash_of(const Release& r) {
  auto s = modelswarm::read_release_torrent(r.dir / ".modelswarm" / "release.torrent");
  REQUIRE(s.ok());
  return s->info_hash_v2;
}

// A private DHT of dht-node processes, node i on 127.0.0.<base+i>, all bootstrapped from node 0.
struct Dht {
  std::vector<Peer> nodes;
  std::string bootstrap;
  Dht(int count, int base, const fs::path& logs) {
    fs::create_directories(logs);
    const int port0 = free_port();
    bootstrap = "127.0.0." + std::to_string(base) + ":" + std::to_string(port0);
    for (int i = 0; i < count; ++i) {
      std::string listen = "127.0.0." + std::to_string(base + i) + ":" + std::to_string(i == 0 ? port0 : 0);
      nodes.push_back(start_peer(mstest::cli_argv({"dht-node", "--json", "--listen", listen, "--dht-bootstrap",
                                                    bootstrap, "--dht-private", "--no-lsd"}),
                                 logs / ("dht" + std::to_string(i))));
    }
    // Every node has joined when each knows another one.
    const std::regex joined(R"("nodes":[1-9])");
    auto deadline = std::chrono::steady_clock::now() + 60s;
    for (auto& n : nodes)
      while (std::chrono::steady_clock::now() < deadline && !std::regex_search(n.proc.out(), joined))
        std::this_thread::sleep_for(200ms);
  }
  // Flags of a peer of this DHT on its own address.
  std::vector<std::string> flags(int host) const {
    return {"--json", "--listen", "127.0.0." + std::to_string(host) + ":0", "--dht", "--dht-private",
            "--dht-bootstrap", bootstrap, "--no-lsd", "--status-interval", "0.5"};
  }
};

// argv of the CLI run with its own MODELSWARM_HOME (one per simulated machine).
std::vector<std::string> in_home(const fs::path& home, std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/env", "MODELSWARM_HOME=" + home.string()};
  for (auto& a : mstest::cli_argv(args)) argv.push_back(a);
  return argv;
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

json last_json(const std::string& out) {
  auto lines = json_lines(out);
  REQUIRE(!lines.empty());
  return lines.back();
}

// A session of this test process on the lab DHT, for items the CLI would never put.
std::unique_ptr<modelswarm::swarm::Session> lab_session(const Dht& dht, int host) {
  auto s = modelswarm::swarm::lan_profile();
  s.listen = "127.0.0." + std::to_string(host) + ":0";
  s.dht = true;
  s.dht_private = true;
  s.lsd = false;
  s.dht_bootstrap = {dht.bootstrap};
  auto session = modelswarm::swarm::Session::open(s, {});
  REQUIRE_MESSAGE(session.ok(), (session.ok() ? "" : session.error().message));
  return std::move(*session);
}

}  // namespace

TEST_CASE("a minisign key is libtorrent's ed25519 key: same public key, same item signature") {
  modelswarm::KeyPair kp = modelswarm::generate_key_pair();
  const auto& sk = modelswarm::SecretKeyAccess::sk(kp.secret_key);
  std::array<char, 32> seed{};
  std::memcpy(seed.data(), sk.data(), 32);  // libsodium's secret key: seed | public key
  auto [lt_pk, lt_sk] = libtorrent::dht::ed25519_create_keypair(seed);
  CHECK(std::memcmp(lt_pk.bytes.data(), kp.public_key.pk.data(), 32) == 0);

  ChannelRef ref{kp.public_key, "tiny-model"};
  auto item = modelswarm::make_channel_item(ref, 7, kIh, {"http://127.0.0.1:1/announce"}, {}, kp.secret_key);
  REQUIRE(item.ok());
  auto lt_sig = libtorrent::dht::sign_mutable_item({item->value.data(), static_cast<long>(item->value.size())},
                                                   {ref.name.data(), static_cast<long>(ref.name.size())},
                                                   libtorrent::dht::sequence_number(7), lt_pk, lt_sk);
  CHECK(std::memcmp(lt_sig.bytes.data(), item->signature.data(), 64) == 0);
}

TEST_CASE("channel items: what is signed is what opens, and nothing else does") {
  modelswarm::KeyPair a = modelswarm::generate_key_pair(), b = modelswarm::generate_key_pair();
  ChannelRef ref{a.public_key, "tiny-model"};
  auto item = modelswarm::make_channel_item(ref, 3, kIh, {"udp://127.0.0.1:6969"}, {"https://example.invalid/r/"},
                                            a.secret_key);
  REQUIRE(item.ok());
  auto opened = modelswarm::open_channel_item(ref, item->seq, item->value, item->signature);
  REQUIRE(opened.ok());
  CHECK(opened->info_hash == kIh);
  CHECK(opened->trackers == std::vector<std::string>{"udp://127.0.0.1:6969"});
  CHECK(opened->web_seeds == std::vector<std::string>{"https://example.invalid/r/"});
  CHECK(modelswarm::channel_magnet(*opened).find("xt=urn:btmh:1220" + kIh) != std::string::npos);

  SUBCASE("signed by another key") {
    auto sig = modelswarm::sign_ed25519(modelswarm::channel_signing_buffer(ref.name, 3, item->value), b.secret_key);
    auto r = modelswarm::open_channel_item(ref, 3, item->value, sig);
    REQUIRE(!r.ok());
    CHECK(r.error().code == modelswarm::ErrorCode::trust);
  }
  SUBCASE("another seq or salt than signed") {
    CHECK(modelswarm::open_channel_item(ref, 4, item->value, item->signature).error().code ==
          modelswarm::ErrorCode::trust);
    CHECK(modelswarm::open_channel_item({a.public_key, "other"}, 3, item->value, item->signature).error().code ==
          modelswarm::ErrorCode::trust);
  }
  SUBCASE("signed, but not canonical, or a version that is not the seq") {
    std::string unsorted = "d1:vi3e2:ih32:" + std::string(32, 'x') + "e";
    auto sig = modelswarm::sign_ed25519(modelswarm::channel_signing_buffer(ref.name, 3, unsorted), a.secret_key);
    CHECK(modelswarm::open_channel_item(ref, 3, unsorted, sig).error().code == modelswarm::ErrorCode::format);
    std::string v5 = "d2:ih32:" + std::string(32, 'x') + "1:vi5ee";
    sig = modelswarm::sign_ed25519(modelswarm::channel_signing_buffer(ref.name, 3, v5), a.secret_key);
    CHECK(modelswarm::open_channel_item(ref, 3, v5, sig).error().code == modelswarm::ErrorCode::format);
  }
  SUBCASE("what make_channel_item refuses") {
    CHECK(modelswarm::make_channel_item(ref, 1, kIh, {}, {}, b.secret_key).error().code ==
          modelswarm::ErrorCode::trust);
    CHECK(!modelswarm::make_channel_item(ref, 1, "abc", {}, {}, a.secret_key).ok());
    CHECK(!modelswarm::make_channel_item(ref, 1ull << 63, kIh, {}, {}, a.secret_key).ok());
    CHECK(!modelswarm::make_channel_item({a.public_key, std::string(65, 'n')}, 1, kIh, {}, {}, a.secret_key).ok());
    std::vector<std::string> many(40, "https://tracker.example.invalid/announce/with/a/long/path");
    auto big = modelswarm::make_channel_item(ref, 1, kIh, many, {}, a.secret_key);
    REQUIRE(!big.ok());
    CHECK(big.error().message.find("1000") != std::string::npos);
  }
}

TEST_CASE("KEY/NAME: key forms, and what is not a channel") {
  Home home;
  mstest::TempDir tmp;
  modelswarm::KeyPair kp = modelswarm::generate_key_pair();
  const std::string b64 = kp.public_key.to_base64();
  CHECK(modelswarm::looks_like_channel(b64 + "/tiny"));
  CHECK(!modelswarm::looks_like_channel("magnet:?xt=urn:btmh:1220" + kIh));
  CHECK(!modelswarm::looks_like_channel("https://example.invalid/r/tiny"));
  auto ref = modelswarm::parse_channel_ref(b64 + "/tiny");
  REQUIRE(ref.ok());
  CHECK(ref->key == kp.public_key);
  CHECK(ref->name == "tiny");
  CHECK(ref->to_string() == b64 + "/tiny");
  CHECK(!modelswarm::parse_channel_ref(b64 + "/bad name").ok());
  // A key id must be in the trust store.
  const std::string id = modelswarm::key_id_hex(kp.public_key.id);
  CHECK(modelswarm::parse_channel_ref(id + "/tiny").error().code == modelswarm::ErrorCode::invalid_argument);
  REQUIRE(modelswarm::add_trusted_key(kp.public_key).ok());
  CHECK(modelswarm::parse_channel_ref(id + "/tiny")->key == kp.public_key);
  mstest::write_file((tmp / "k.pub").string(), kp.public_key.to_file());
  CHECK(modelswarm::parse_channel_ref((tmp / "k.pub").string() + "/tiny")->key == kp.public_key);
  // The record keeps the newest item and sets the floor a fetch accepts.
  ChannelRef r{kp.public_key, "tiny"};
  CHECK(*modelswarm::channel_floor(r) == 0);
  REQUIRE(modelswarm::record_channel_item(*modelswarm::make_channel_item(r, 4, kIh, {}, {}, kp.secret_key)).ok());
  REQUIRE(modelswarm::record_channel_item(*modelswarm::make_channel_item(r, 2, kIh, {}, {}, kp.secret_key)).ok());
  CHECK((*modelswarm::recorded_channel_item(r))->seq == 4);
  CHECK(*modelswarm::channel_floor(r) == 4);
}

TEST_CASE("channels on a private DHT: publish, fetch by KEY/NAME, keep alive, follow, refuse") {
  Home home;  // the publisher's machine
  mstest::TempDir tmp;
  modelswarm::KeyPair key = modelswarm::generate_key_pair();
  REQUIRE(modelswarm::write_key_pair(tmp / "pub.key", tmp / "pub.pub", key, std::nullopt, false).ok());
  const std::string channel = key.public_key.to_base64() + "/tiny";
  Release v1 = pack_version(tmp / "p1", "tiny", 1, 21, key);
  Release v2 = pack_version(tmp / "p2", "tiny", 2, 22, key);

  Dht dht(8, 40, tmp.path());
  // The publisher puts v1 and seeds both versions; nobody is told anyone's address.
  auto pub = mstest::run_cli(with({"publish", v1.dir.string(), "-k", (tmp / "pub.key").string()}, dht.flags(50)), 90s);
  REQUIRE_MESSAGE(pub.exit_code == 0, pub.err);
  json published = last_json(pub.out);
  CHECK(published["version"] == 1);
  CHECK(published["info_hash"] == info_hash_of(v1));
  CHECK(published["nodes"].get<int>() >= 1);
  Peer seeder = start_peer(mstest::cli_argv(with({"seed", v1.dir.string(), v2.dir.string()}, dht.flags(51))),
                           tmp / "seed");

  const fs::path f1 = tmp / "f1-home", mirror_home = tmp / "m-home";
  SUBCASE("a fresh machine fetches v1 by KEY/NAME; a seeder without the key keeps the channel alive") {
    auto f = mstest::run(in_home(f1, with({"fetch", channel, "-o", (tmp / "f1").string(), "--stall-timeout", "90"},
                                          dht.flags(52))),
                         180s);
    REQUIRE_MESSAGE(f.exit_code == 0, f.err);
    CHECK(same_bytes(tmp / "f1" / "tiny" / "model.bin", v1.dir / "model.bin"));
    CHECK(!events(f.out, "channel").empty());

    // A second DHT that has never seen the item: f1 seeds what it fetched, and puts the item
    // it recorded (it has no secret key); a machine on that DHT only then finds and fetches it.
    Dht other(4, 60, tmp / "other");
    Peer keeper = start_peer(in_home(f1, with({"seed", (tmp / "f1" / "tiny").string()}, other.flags(53))),
                             tmp / "keeper");
    REQUIRE_MESSAGE(keeper.proc.wait_for_output("put on", 90s), keeper.proc.err());
    auto shown = mstest::run(in_home(tmp / "f2-home", with({"channel", channel}, other.flags(54))), 120s);
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
    CHECK(last_json(shown.out)["version"] == 1);
    CHECK(last_json(shown.out)["info_hash"] == info_hash_of(v1));

    // Rollback: a machine that has seen v2 refuses the v1 item this DHT holds.
    REQUIRE(modelswarm::record_channel_item(
                *modelswarm::make_channel_item({key.public_key, "tiny"}, 2, info_hash_of(v2), {}, {}, key.secret_key))
                .ok());
    auto rolled = mstest::run_cli(with({"fetch", channel, "-o", (tmp / "rb").string()}, other.flags(55)), 120s);
    CHECK_MESSAGE(rolled.exit_code == kExitTrust, rolled.err);
    CHECK(rolled.err.find("rollback") != std::string::npos);
    CHECK(!fs::exists(tmp / "rb" / "tiny"));
  }

  SUBCASE("mirror follows the channel to v2; items that lie about their release are refused") {
    mstest::write_file((tmp / "mirror.json").string(),
                       json{{"format", "modelswarm.mirror/1"},
                            {"releases", {{{"source", channel}, {"dest", (tmp / "m").string()}}}}}
                           .dump());
    auto mirror = [&] {
      return mstest::run(in_home(mirror_home, with({"mirror", (tmp / "mirror.json").string(), "--stall-timeout", "90"},
                                                   dht.flags(56))),
                         240s);
    };
    auto m1 = mirror();
    REQUIRE_MESSAGE(m1.exit_code == 0, (m1.out + m1.err));
    CHECK(events(m1.out, "release")[0]["status"] == "fetched");
    CHECK(events(m1.out, "release")[0]["version"] == 1);

    auto pub2 = mstest::run_cli(with({"publish", v2.dir.string(), "-k", (tmp / "pub.key").string()}, dht.flags(50)), 90s);
    REQUIRE_MESSAGE(pub2.exit_code == 0, pub2.err);
    auto m2 = mirror();
    REQUIRE_MESSAGE(m2.exit_code == 0, (m2.out + m2.err));
    CHECK(events(m2.out, "release")[0]["status"] == "updated");
    CHECK(events(m2.out, "release")[0]["version"] == 2);
    CHECK(same_bytes(tmp / "m" / "tiny" / "model.bin", v2.dir / "model.bin"));

    // Items the publisher's key did sign, but whose release is not what they announce: another
    // name (the v2 release under channel "tiny-x") and another version (9 for release v2).
    auto lab = lab_session(dht, 57);
    std::atomic<bool> stop{false};
    modelswarm::swarm::ChannelLookupOptions lookup;
    auto put = [&](const ChannelRef& ref, std::uint64_t seq, const modelswarm::SecretKey& sk) {
      auto item = modelswarm::make_channel_item({key.public_key, ref.name}, seq, info_hash_of(v2), {}, {}, key.secret_key);
      REQUIRE(item.ok());
      if (&sk != &key.secret_key)
        item->signature = modelswarm::sign_ed25519(modelswarm::channel_signing_buffer(ref.name, item->seq, item->value), sk);
      auto stored = modelswarm::swarm::put_channel_item(*lab, *item, lookup, stop);
      REQUIRE_MESSAGE(stored.ok(), (stored.ok() ? "" : stored.error().message));
      return *stored;
    };
    CHECK(put({key.public_key, "tiny-x"}, 2, key.secret_key) >= 1);
    auto renamed = mstest::run(in_home(mirror_home, with({"fetch", key.public_key.to_base64() + "/tiny-x", "-o",
                                                          (tmp / "x").string(), "--stall-timeout", "90"},
                                                         dht.flags(58))),
                               180s);
    CHECK_MESSAGE(renamed.exit_code == kExitTrust, renamed.err);
    CHECK(renamed.err.find("named") != std::string::npos);

    CHECK(put({key.public_key, "tiny"}, 9, key.secret_key) >= 1);
    auto reversioned = mstest::run(
        in_home(tmp / "f3-home", with({"fetch", channel, "-o", (tmp / "y").string(), "--stall-timeout", "90"}, dht.flags(59))),
        180s);
    CHECK_MESSAGE(reversioned.exit_code == kExitTrust, reversioned.err);
    CHECK(reversioned.err.find("version 9") != std::string::npos);
    CHECK(!fs::exists(tmp / "y" / "tiny"));

    // Signed by another key under the publisher's: DHT nodes check BEP 44 signatures and store
    // nothing, so a lookup still finds version 9, never 10.
    modelswarm::KeyPair mallory = modelswarm::generate_key_pair();
    CHECK(put({key.public_key, "tiny"}, 10, mallory.secret_key) == 0);
    auto found = modelswarm::swarm::resolve_channel(*lab, {key.public_key, "tiny"}, lookup, stop);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->seq == 9);
  }
  seeder.proc.stop(SIGTERM);
}
