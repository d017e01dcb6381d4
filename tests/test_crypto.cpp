// SHA-256, the parallel hasher, BitTorrent v2 merkle roots (checked against libtorrent's own
// hashing) and minisign-format keys and signatures (checked against the real minisign binary).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <libtorrent/create_torrent.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/torrent_info.hpp>

#include <filesystem>
#include <random>

#include "crypto/hasher.hpp"
#include "crypto/merkle.hpp"
#include "modelswarm/minisign.hpp"
#include "modelswarm/sha256.hpp"
#include "process.hpp"
#include "tempdir.hpp"

namespace fs = std::filesystem;
using namespace modelswarm;

namespace {

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string hex(const Sha256Digest& d) { return to_hex(d); }

// minisign's cheapest scrypt settings: the format is the same, the tests stay fast.
const KdfLimits kFastKdf{32768, 16777216};

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-2 vectors, one-shot and incremental") {
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  Sha256 h;
  for (char c : msg) h.update(&c, 1);
  CHECK(hex(h.finish()) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // finish() resets: the hasher is reusable.
  h.update("abc", 3);
  CHECK(hex(h.finish()) == hex(sha256("abc")));
  CHECK(sha256_from_hex(hex(sha256("abc"))) == sha256("abc"));
  CHECK_FALSE(sha256_from_hex("zz"));
  CHECK_FALSE(sha256_from_hex(std::string(64, 'A')));  // canonical form is lower case
  CHECK(bytes_from_hex("00ff7f") == std::string("\x00\xff\x7f", 3));
  CHECK(bytes_from_hex("") == std::string());
  CHECK_FALSE(bytes_from_hex("abc"));  // an odd count of digits
  CHECK_FALSE(bytes_from_hex("0g"));
  CHECK_FALSE(bytes_from_hex("FF"));
}

TEST_CASE("hash_plan: every range and every leaf equals a direct hash, with any thread count") {
  mstest::TempDir dir;
  std::vector<std::string> data = {random_bytes(3 * 1024 * 1024 + 123, 1), random_bytes(16384, 2),
                                   random_bytes(1, 3), std::string()};
  HashPlan plan;
  for (size_t i = 0; i < data.size(); ++i) {
    auto p = dir / ("f" + std::to_string(i));
    mstest::write_file(p.string(), data[i]);
    plan.files.push_back(p);
    plan.expected_sizes.push_back(data[i].size());
    plan.merkle.push_back(!data[i].empty());
  }
  plan.ranges = {{0, 0, data[0].size()}, {0, 100, 2000000}, {0, 0, data[0].size()}, {1, 0, 16384},
                 {2, 0, 1}, {3, 0, 0}, {0, data[0].size(), 0}};
  for (unsigned threads : {1u, 2u, 5u}) {
    HashOptions o;
    o.threads = threads;
    uint64_t last_done = 0, last_total = 0;
    o.progress = [&](uint64_t d, uint64_t t) { last_done = d; last_total = t; };
    auto r = hash_plan(plan, o);
    REQUIRE(r.ok());
    CHECK(last_done == last_total);
    for (size_t i = 0; i < plan.ranges.size(); ++i) {
      const auto& rg = plan.ranges[i];
      CHECK(r->range_digests[i] == sha256(data[rg.file].data() + rg.offset, rg.size));
    }
    for (size_t f = 0; f < data.size(); ++f) {
      REQUIRE(r->leaves[f].size() == merkle_leaf_count(data[f].size()));
      for (size_t b = 0; b < r->leaves[f].size(); ++b) {
        size_t off = b * kMerkleBlockSize;
        CHECK(r->leaves[f][b] == sha256(data[f].data() + off, std::min<size_t>(kMerkleBlockSize, data[f].size() - off)));
      }
    }
  }
}

TEST_CASE("hash_plan refuses a file whose size changed, a range outside its file, and stops when cancelled") {
  mstest::TempDir dir;
  auto p = dir / "f";
  mstest::write_file(p.string(), random_bytes(5000, 4));
  HashPlan plan{{p}, {4999}, {{0, 0, 10}}, {}};
  auto r = hash_plan(plan);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::content);
  CHECK(r.error().message.find(p.string()) != std::string::npos);
  plan.expected_sizes = {5000};
  plan.ranges = {{0, 4000, 1001}};
  CHECK(hash_plan(plan).error().code == ErrorCode::invalid_argument);
  plan.ranges = {{0, 0, 5000}};
  std::atomic<bool> cancel{true};
  HashOptions o;
  o.cancel = &cancel;
  CHECK(hash_plan(plan, o).error().code == ErrorCode::interrupted);
  plan.files = {dir / "absent"};
  CHECK(hash_plan(plan).error().code == ErrorCode::io);
}

TEST_CASE("v2 pieces roots and piece layers equal libtorrent's for sizes around block and piece edges") {
  mstest::TempDir dir;
  const uint64_t piece = 64 * 1024;  // 4 blocks per piece
  std::vector<uint64_t> sizes = {1, 16383, 16384, 16385, 3 * 16384, 65536, 65537, 5 * 65536 + 7, 9 * 16384};
  fs::create_directories(dir / "t");
  libtorrent::file_storage fs_lt;
  HashPlan plan;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string name = "f" + std::to_string(i);
    mstest::write_file((dir / "t" / name).string(), random_bytes(sizes[i], 10 + static_cast<uint32_t>(i)));
    fs_lt.add_file("t/" + name, static_cast<int64_t>(sizes[i]));
    plan.files.push_back(dir / "t" / name);
    plan.expected_sizes.push_back(sizes[i]);
    plan.merkle.push_back(true);
  }
  auto r = hash_plan(plan);
  REQUIRE(r.ok());
  // libtorrent hashes the same files itself.
  libtorrent::create_torrent ct(fs_lt, static_cast<int>(piece), libtorrent::create_torrent::v2_only);
  libtorrent::set_piece_hashes(ct, dir.path().string());
  auto buf = ct.generate_buf();
  libtorrent::torrent_info ti(libtorrent::span<const char>(buf.data(), static_cast<long>(buf.size())),
                              libtorrent::from_span);
  const auto& tfs = ti.files();
  for (libtorrent::file_index_t i(0); i < tfs.end_file(); ++i) {
    if (tfs.pad_file_at(i)) continue;
    std::string name = fs::path(tfs.file_path(i)).filename().string();
    size_t k = std::stoul(name.substr(1));
    INFO("size " << sizes[k]);
    Sha256Digest ours = merkle_root(r->leaves[k]);
    CHECK(std::memcmp(tfs.root(i).data(), ours.data(), 32) == 0);
    auto layer = merkle_piece_layer(r->leaves[k], piece);
    CHECK(layer.size() == static_cast<size_t>(tfs.file_num_pieces(i)));
    if (layer.size() > 1) {
      auto theirs = ti.piece_layer(i);
      REQUIRE(theirs.size() == layer.size() * 32);
      CHECK(std::memcmp(theirs.data(), layer.data(), theirs.size()) == 0);
    }
  }
}

TEST_CASE("keys: public key round trip, key id as minisign prints it, exact lengths") {
  KeyPair kp = generate_key_pair();
  std::string b64 = kp.public_key.to_base64();
  CHECK(b64.substr(0, 2) == "RW");
  auto back = parse_public_key(b64);
  REQUIRE(back.ok());
  CHECK(*back == kp.public_key);
  CHECK(parse_public_key_file(kp.public_key.to_file(), "k.pub")->id == kp.public_key.id);
  CHECK(kp.secret_key.public_key() == kp.public_key);
  KeyId id{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xAB};
  CHECK(key_id_hex(id) == "AB07060504030201");
  CHECK_FALSE(parse_public_key(b64.substr(0, b64.size() - 4)).ok());  // too short
  CHECK_FALSE(parse_public_key(b64 + "AAAA").ok());                   // too long
  CHECK_FALSE(parse_public_key("not base64!").ok());
}

TEST_CASE("secret key files: unencrypted and scrypt-encrypted round trips; a wrong password is refused") {
  KeyPair kp = generate_key_pair();
  auto plain = format_secret_key_file(kp.secret_key, std::nullopt);
  REQUIRE(plain.ok());
  CHECK_FALSE(*secret_key_file_is_encrypted(*plain, "k"));
  auto k1 = parse_secret_key_file(*plain, "k", std::nullopt);
  REQUIRE(k1.ok());
  CHECK(k1->public_key() == kp.public_key);

  auto enc = format_secret_key_file(kp.secret_key, std::string("hunter2"), kFastKdf);
  REQUIRE(enc.ok());
  CHECK(*secret_key_file_is_encrypted(*enc, "k"));
  CHECK(parse_secret_key_file(*enc, "k", std::nullopt).error().code == ErrorCode::invalid_argument);
  CHECK(parse_secret_key_file(*enc, "k", std::string("wrong")).error().code == ErrorCode::trust);
  auto k2 = parse_secret_key_file(*enc, "k", std::string("hunter2"));
  REQUIRE(k2.ok());
  CHECK(k2->public_key() == kp.public_key);
  CHECK_FALSE(parse_secret_key_file("untrusted comment: x\nAAAA\n", "k", std::nullopt).ok());
}

TEST_CASE("signatures: sign/verify, tampering of message, comment or signature is caught") {
  KeyPair kp = generate_key_pair();
  auto sig = sign_message("hello", kp.secret_key, "release x version 1");
  REQUIRE(sig.ok());
  CHECK(sig->prehashed);
  CHECK(verify_signature("hello", *sig, kp.public_key).ok());
  CHECK(verify_signature("hellp", *sig, kp.public_key).error().code == ErrorCode::trust);
  auto text = format_signature(*sig);
  auto parsed = parse_signature(text, "s");
  REQUIRE(parsed.ok());
  CHECK(verify_signature("hello", *parsed, kp.public_key).ok());
  Signature bad = *parsed;
  bad.trusted_comment = "release x version 2";
  CHECK_FALSE(verify_signature("hello", bad, kp.public_key).ok());
  KeyPair other = generate_key_pair();
  CHECK(verify_signature("hello", *parsed, other.public_key).error().message.find("not by") != std::string::npos);
  // Malformed files: unprintable trusted comment, missing lines, wrong lengths.
  CHECK_FALSE(sign_message("m", kp.secret_key, "bad\x01").ok());
  std::string unprintable = text;
  unprintable.replace(unprintable.find("release x"), 1, "\x07");
  CHECK_FALSE(parse_signature(unprintable, "s").ok());
  CHECK_FALSE(parse_signature(text.substr(0, text.rfind('\n', text.size() - 2)), "s").ok());
  CHECK_FALSE(parse_signature(text + "extra\n", "s").ok());
  CHECK_FALSE(parse_signature(std::string(100000, 'a'), "s").ok());
}

TEST_CASE("interop with the real minisign: keys and signatures both ways, encrypted and not") {
  mstest::TempDir dir;
  auto p = [&](const char* n) { return (dir / n).string(); };
  mstest::write_file(p("msg"), random_bytes(100000, 7));
  std::string msg = mstest::read_file(p("msg"));

  SUBCASE("minisign -G -W key signs; modelswarm verifies and signs with the same key") {
    auto g = mstest::run({"minisign", "-G", "-W", "-p", p("m.pub"), "-s", p("m.key")});
    REQUIRE(g.exit_code == 0);
    auto s = mstest::run({"minisign", "-S", "-s", p("m.key"), "-m", p("msg"), "-t", "trusted hi"});
    REQUIRE(s.exit_code == 0);
    auto pub = parse_public_key_file(mstest::read_file(p("m.pub")), "m.pub");
    REQUIRE(pub.ok());
    auto sig = parse_signature(mstest::read_file(p("msg.minisig")), "msg.minisig");
    REQUIRE(sig.ok());
    CHECK(sig->trusted_comment == "trusted hi");
    CHECK(verify_signature(msg, *sig, *pub).ok());
    CHECK_FALSE(verify_signature(msg + "x", *sig, *pub).ok());
    auto sk = parse_secret_key_file(mstest::read_file(p("m.key")), "m.key", std::nullopt);
    REQUIRE(sk.ok());
    CHECK(sk->public_key() == *pub);
  }
  SUBCASE("modelswarm keys and signatures work in minisign (unencrypted and encrypted)") {
    KeyPair kp = generate_key_pair();
    REQUIRE(write_key_pair(p("k.key"), p("k.pub"), kp, std::nullopt, false).ok());
    auto perms = fs::status(p("k.key")).permissions() & fs::perms::all;
    CHECK(perms == (fs::perms::owner_read | fs::perms::owner_write));
    auto sig = sign_message(msg, kp.secret_key, "from modelswarm");
    mstest::write_file(p("msg.minisig"), format_signature(*sig));
    auto v = mstest::run({"minisign", "-V", "-p", p("k.pub"), "-m", p("msg")});
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("from modelswarm") != std::string::npos);
    auto v2 = mstest::run({"minisign", "-V", "-P", kp.public_key.to_base64(), "-m", p("msg")});
    CHECK(v2.exit_code == 0);
    // minisign signs with our unencrypted key...
    auto s = mstest::run({"minisign", "-S", "-s", p("k.key"), "-m", p("msg"), "-x", p("m2.sig")});
    REQUIRE(s.exit_code == 0);
    CHECK(verify_signature(msg, *parse_signature(mstest::read_file(p("m2.sig")), "m2.sig"), kp.public_key).ok());
    // ...and with our encrypted one (minisign's own scrypt limits are read from the file).
    REQUIRE(write_key_pair(p("e.key"), p("e.pub"), kp, std::string("s3cret"), false, kFastKdf).ok());
    auto se = mstest::run({"minisign", "-S", "-s", p("e.key"), "-m", p("msg"), "-x", p("m3.sig")},
                          std::chrono::seconds(60), "s3cret\n");
    REQUIRE(se.exit_code == 0);
    CHECK(verify_signature(msg, *parse_signature(mstest::read_file(p("m3.sig")), "m3.sig"), kp.public_key).ok());
    auto wrong = mstest::run({"minisign", "-S", "-s", p("e.key"), "-m", p("msg"), "-x", p("m4.sig")},
                             std::chrono::seconds(60), "nope\n");
    CHECK(wrong.exit_code != 0);
    // Tampering is caught by minisign too.
    mstest::write_file(p("msg"), msg + "x");
    CHECK(mstest::run({"minisign", "-V", "-p", p("k.pub"), "-m", p("msg")}).exit_code != 0);
  }
}
