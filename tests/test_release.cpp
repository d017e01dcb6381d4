// pack and verify end to end through the real CLI: chunks per tensor, minisign compatibility,
// the tamper matrix (each refused with its exit code, nothing modified), determinism, and the
// torrent checked with libtorrent.
#include <doctest/doctest.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include <libtorrent/torrent_info.hpp>
#include <nlohmann/json.hpp>

#include "modelswarm/manifest.hpp"
#include "modelswarm/minisign.hpp"
#include "modelswarm/release.hpp"
#include "modelswarm/safetensors_writer.hpp"
#include "corrupt.hpp"
#include "release_fixture.hpp"

namespace fs = std::filesystem;
using mstest::run_cli;
using nlohmann::json;

namespace {

struct Packed {
  mstest::ReleaseEnv env;
  fs::path dir = env.tmp / "rel";
  std::string pub;
  explicit Packed(uint64_t version = 5, std::vector<std::string> extra = {}) {
    pub = env.keygen("k1");
    mstest::make_model_dir(dir);
    std::vector<std::string> args = {"pack", dir.string(), "--key", env.key("k1"), "--name", "tiny-llama",
                                     "--version", std::to_string(version), "--created", "2026-01-02T03:04:05Z",
                                     "--piece-size", "32K"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    magnet = r.out.substr(0, r.out.find('\n'));
  }
  std::string magnet;
  mstest::ProcessResult verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"verify", dir.string(), "--trust", pub, "--json"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  }
  modelswarm::Manifest manifest() const {
    auto m = modelswarm::parse_manifest(mstest::read_file((dir / modelswarm::kManifestPath).string()));
    REQUIRE(m.ok());
    return *m;
  }
  // Signs hand-made manifest bytes with k1 (or another key) and puts them in place.
  void resign(const std::string& manifest_text, const std::string& keyname = "k1") {
    auto sk = modelswarm::parse_secret_key_file(mstest::read_file(env.key(keyname)), "k", std::nullopt);
    REQUIRE(sk.ok());
    auto sig = modelswarm::sign_message(manifest_text, *sk, "hand-written");
    REQUIRE(sig.ok());
    mstest::write_file((dir / modelswarm::kManifestPath).string(), manifest_text);
    mstest::write_file((dir / modelswarm::kSignaturePath).string(), modelswarm::format_signature(*sig));
  }
};

using mstest::flip_byte;

// Runs verify and checks the exit code, and that neither the release nor the state changed.
json expect_refused(Packed& p, int code, std::vector<std::string> extra = {}) {
  auto before = mstest::snapshot(p.env.tmp.path());
  auto r = p.verify(extra);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == code);
  CHECK(mstest::snapshot(p.env.tmp.path()) == before);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("pack writes a signed manifest with one chunk per tensor plus the header; verify accepts it") {
  Packed p;
  CHECK(p.magnet.rfind("magnet:?xt=urn:btmh:1220", 0) == 0);
  CHECK(p.magnet.find("dn=tiny-llama") != std::string::npos);
  auto m = p.manifest();
  CHECK(m.name == "tiny-llama");
  CHECK(m.version == 5);
  CHECK(m.created == "2026-01-02T03:04:05Z");
  REQUIRE(m.files.size() == 3);
  const auto* model = m.find_file("model.gguf");
  REQUIRE(model);
  CHECK(model->format == modelswarm::FileFormat::gguf);
  REQUIRE(model->chunks.size() == 4);
  CHECK(model->chunks[0].name == "(header)");
  CHECK(model->chunks[1].name == "token_embd.weight");
  CHECK(model->chunks[2].name == "blk.0.attn_q.weight");
  CHECK(*model->chunks[2].dtype == "Q4_0");
  CHECK(*model->chunks[2].shape == std::vector<uint64_t>{64, 3});
  // 108 bytes of Q4_0 data padded to the 32-byte alignment: the chunk owns the padding.
  CHECK(model->chunks[2].size == 128);
  CHECK(model->chunks[3].offset + model->chunks[3].size == model->size);
  std::string bytes = mstest::read_file((p.dir / "model.gguf").string());
  CHECK(model->sha256 == modelswarm::sha256(bytes));
  CHECK(model->chunks[1].sha256 == modelswarm::sha256(bytes.data() + model->chunks[1].offset, model->chunks[1].size));
  CHECK(m.find_file("tokenizer/vocab.json")->chunks.size() == 1);

  auto r = p.verify();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j["verified"] == true);
  CHECK(j["chunks_checked"] == 6);
  // The real minisign accepts the signature.
  auto ms = mstest::run({"minisign", "-V", "-P", p.pub, "-m", (p.dir / modelswarm::kManifestPath).string()});
  CHECK(ms.exit_code == 0);
  CHECK(ms.out.find("tiny-llama version 5") != std::string::npos);
  // Keys added to the trust store work without --trust; removed ones no longer do.
  CHECK(run_cli({"verify", p.dir.string()}).exit_code == 3);
  CHECK(run_cli({"trust", "add", p.env.pub("k1")}).exit_code == 0);
  auto list = run_cli({"trust", "list", "--json"});
  CHECK(list.out.find(p.pub) != std::string::npos);
  CHECK(run_cli({"verify", p.dir.string()}).exit_code == 0);
  std::string id = json::parse(list.out)["keys"][0]["key_id"];
  CHECK(run_cli({"trust", "remove", id}).exit_code == 0);
  CHECK(run_cli({"trust", "remove", id}).exit_code == 2);
  CHECK(run_cli({"verify", p.dir.string()}).exit_code == 3);
}

TEST_CASE("tamper matrix: each is refused with the right exit code and nothing is modified") {
  SUBCASE("a flipped byte in a tensor is reported by tensor name (4)") {
    Packed p;
    auto m = p.manifest();
    const auto& c = m.find_file("model.gguf")->chunks[2];
    flip_byte(p.dir / "model.gguf", c.offset + 5);
    auto j = expect_refused(p, 4);
    REQUIRE(j["problems"].size() == 1);
    CHECK(j["problems"][0]["chunk"] == "blk.0.attn_q.weight");
    CHECK(j["problems"][0]["kind"] == "chunk_mismatch");
    auto r = run_cli({"verify", p.dir.string(), "--trust", p.pub});
    CHECK(r.err.find("tensor blk.0.attn_q.weight") != std::string::npos);
  }
  SUBCASE("a flipped byte in the header (4)") {
    Packed p;
    flip_byte(p.dir / "model.gguf", 30);
    auto j = expect_refused(p, 4);
    CHECK(j["problems"][0]["chunk"] == "(header)");
  }
  SUBCASE("a flipped byte in the manifest (3)") {
    Packed p;
    flip_byte(p.dir / modelswarm::kManifestPath, 40);
    expect_refused(p, 3);
  }
  SUBCASE("a flipped byte in the signature (3)") {
    Packed p;
    std::string sig = mstest::read_file((p.dir / modelswarm::kSignaturePath).string());
    size_t line2 = sig.find('\n') + 10;
    sig[line2] = sig[line2] == 'A' ? 'B' : 'A';
    mstest::write_file((p.dir / modelswarm::kSignaturePath).string(), sig);
    expect_refused(p, 3);
  }
  SUBCASE("a manifest signed by another key (3), a missing signature (3), no trusted key (3)") {
    Packed p;
    p.env.keygen("k2");
    p.resign(mstest::read_file((p.dir / modelswarm::kManifestPath).string()), "k2");
    expect_refused(p, 3);
    fs::remove(p.dir / modelswarm::kSignaturePath);
    expect_refused(p, 3);
    CHECK(run_cli({"verify", p.dir.string()}).exit_code == 3);
  }
  SUBCASE("a renamed, a missing and an extra file (4)") {
    Packed p;
    fs::rename(p.dir / "README.md", p.dir / "README.txt");
    auto j = expect_refused(p, 4);
    CHECK(j["problems"].size() == 2);
    fs::remove(p.dir / "README.txt");
    j = expect_refused(p, 4);
    CHECK(j["problems"][0]["kind"] == "missing");
    mstest::write_file((p.dir / "README.md").string(), "a test model\n");
    CHECK(p.verify().exit_code == 0);
    mstest::write_file((p.dir / "tokenizer" / "extra.bin").string(), "x");
    j = expect_refused(p, 4);
    CHECK(j["problems"][0]["kind"] == "extra");
    CHECK(j["problems"][0]["path"] == "tokenizer/extra.bin");
  }
  SUBCASE("a symbolic link in place of a file (4)") {
    Packed p;
    fs::rename(p.dir / "README.md", p.env.tmp / "outside.md");
    fs::create_symlink(p.env.tmp / "outside.md", p.dir / "README.md");
    auto j = expect_refused(p, 4);
    CHECK(j["problems"][0]["kind"] == "unsafe_path");
  }
  SUBCASE("an older version after a newer one (3) unless --allow-downgrade") {
    Packed p(7);
    CHECK(p.verify().exit_code == 0);  // remembers version 7
    auto r = run_cli({"pack", p.dir.string(), "--key", p.env.key("k1"), "--name", "tiny-llama", "--version", "6"});
    CHECK(r.exit_code == 2);  // this key has version 7 on record: pack refuses to go back
    r = run_cli({"pack", p.dir.string(), "--key", p.env.key("k1"), "--name", "tiny-llama", "--version", "6",
                 "--allow-downgrade"});
    REQUIRE(r.exit_code == 0);
    auto j = expect_refused(p, 3);
    CHECK(j["error"]["message"].get<std::string>().find("rollback") != std::string::npos);
    CHECK(p.verify({"--allow-downgrade"}).exit_code == 0);
  }
  SUBCASE("an expired release (3)") {
    // pack refuses a date in the past, so the publisher's expired manifest is written by hand.
    Packed p(1);
    std::string text = mstest::read_file((p.dir / modelswarm::kManifestPath).string());
    text.replace(text.find("  \"files\""), 0, "  \"expires\": \"2026-01-03T00:00:00Z\",\n");
    p.resign(text);
    auto j = expect_refused(p, 3);
    CHECK(j["error"]["message"].get<std::string>().find("expired") != std::string::npos);
  }
  SUBCASE("../ and absolute paths in a hand-written, re-signed manifest (7)") {
    Packed p;
    std::string text = mstest::read_file((p.dir / modelswarm::kManifestPath).string());
    for (const std::string bad : {"../README.md", "/etc/passwd", "a/../../b", "tokenizer\\\\x", ".modelswarm/x"}) {
      INFO(bad);
      std::string t = text;
      t.replace(t.find("\"README.md\""), 11, "\"" + bad + "\"");
      p.resign(t);
      expect_refused(p, 7);
    }
  }
  SUBCASE("chunks that do not cover the file (7)") {
    Packed p;
    auto m = p.manifest();
    std::string text = mstest::read_file((p.dir / modelswarm::kManifestPath).string());
    std::string from = "\"offset\": " + std::to_string(m.find_file("model.gguf")->chunks[2].offset);
    text.replace(text.find(from), from.size(), "\"offset\": 1");
    p.resign(text);
    expect_refused(p, 7);
  }
}

TEST_CASE("packing twice gives byte-identical manifest, signature and torrent") {
  Packed p;
  auto files = [&] {
    return std::vector<std::string>{mstest::read_file((p.dir / modelswarm::kManifestPath).string()),
                                    mstest::read_file((p.dir / modelswarm::kSignaturePath).string()),
                                    mstest::read_file((p.dir / modelswarm::kTorrentPath).string())};
  };
  auto first = files();
  setenv("SOURCE_DATE_EPOCH", "1767323045", 1);  // 2026-01-02T03:04:05Z
  auto r = run_cli({"pack", p.dir.string(), "--key", p.env.key("k1"), "--name", "tiny-llama", "--version", "5",
                    "--piece-size", "32K"});
  unsetenv("SOURCE_DATE_EPOCH");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.substr(0, r.out.find('\n')) == p.magnet);
  CHECK(files() == first);
}

TEST_CASE("the torrent is v2-only, named after the release, and matches the signed manifest") {
  Packed p({5}, {"--tracker", "http://127.0.0.1:6969/announce", "--web-seed", "http://127.0.0.1:8080/tiny/"});
  std::string t = mstest::read_file((p.dir / modelswarm::kTorrentPath).string());
  libtorrent::torrent_info ti(libtorrent::span<const char>(t.data(), static_cast<long>(t.size())), libtorrent::from_span);
  CHECK(ti.v2());
  CHECK_FALSE(ti.v1());
  CHECK(ti.name() == "tiny-llama");
  CHECK(ti.piece_length() == 32768);
  CHECK(ti.trackers().size() == 1);
  CHECK(ti.web_seeds().size() == 1);
  int real_files = 0;
  for (libtorrent::file_index_t i(0); i < ti.files().end_file(); ++i) real_files += !ti.files().pad_file_at(i);
  CHECK(real_files == 5);  // 3 model files + manifest + signature, no torrent
  auto m = p.manifest();
  CHECK(modelswarm::check_torrent_matches_manifest(ti, m).ok());
  // A manifest whose file differs from the torrent is refused.
  m.files[0].pieces_root->at(0) ^= 1;
  CHECK(modelswarm::check_torrent_matches_manifest(ti, m).error().code == modelswarm::ErrorCode::content);
  m = p.manifest();
  m.files.pop_back();
  CHECK_FALSE(modelswarm::check_torrent_matches_manifest(ti, m).ok());
}

TEST_CASE("--hybrid adds v1 metadata that libtorrent accepts") {
  Packed p({5}, {"--hybrid"});
  std::string t = mstest::read_file((p.dir / modelswarm::kTorrentPath).string());
  libtorrent::torrent_info ti(libtorrent::span<const char>(t.data(), static_cast<long>(t.size())), libtorrent::from_span);
  CHECK(ti.v1());
  CHECK(ti.v2());
  CHECK(modelswarm::check_torrent_matches_manifest(ti, p.manifest()).ok());
}

TEST_CASE("load_and_verify_manifest checks signature, trust, expiry and rollback without file reads") {
  Packed p;
  std::string mt = mstest::read_file((p.dir / modelswarm::kManifestPath).string());
  std::string st = mstest::read_file((p.dir / modelswarm::kSignaturePath).string());
  auto key = modelswarm::parse_public_key(p.pub);
  modelswarm::TrustOptions trust{{*key}, false, std::nullopt};
  auto v = modelswarm::load_and_verify_manifest(mt, st, trust);
  REQUIRE(v.ok());
  CHECK(v->manifest.version == 5);
  CHECK(modelswarm::load_and_verify_manifest(mt, st, {}).error().code == modelswarm::ErrorCode::trust);
  REQUIRE(modelswarm::record_release_seen(*v).ok());
  auto newer = *v;
  newer.manifest.version = 9;
  REQUIRE(modelswarm::record_release_seen(newer).ok());
  CHECK(modelswarm::load_and_verify_manifest(mt, st, trust).error().message.find("rollback") != std::string::npos);
  trust.allow_downgrade = true;
  CHECK(modelswarm::load_and_verify_manifest(mt, st, trust).ok());
  auto content = modelswarm::verify_chunks(p.dir, v->manifest);
  REQUIRE(content.ok());
  CHECK(content->ok());
  CHECK(content->chunks_checked == 6);
}

TEST_CASE("verify_chunks skips only the chunks the caller has already verified, never the directory checks") {
  Packed p;
  modelswarm::Manifest m = p.manifest();
  // The model file's last tensor chunk, corrupted on disk.
  size_t fi = 0;
  while (m.files[fi].chunks.size() < 2) ++fi;
  const modelswarm::Chunk& last = m.files[fi].chunks.back();
  flip_byte(p.dir / m.files[fi].path, last.offset);
  size_t last_index = m.files[fi].chunks.size() - 1;

  auto plain = modelswarm::verify_chunks(p.dir, m);
  REQUIRE(plain.ok());
  REQUIRE(plain->problems.size() == 1);
  CHECK(plain->problems[0].chunk == last.name);

  // Marked as verified earlier (a fetch hashed it while it arrived): not read again.
  modelswarm::ChunkCheckOptions skip_last;
  skip_last.already_verified = [&](size_t f, size_t c) { return f == fi && c == last_index; };
  auto skipped = modelswarm::verify_chunks(p.dir, m, skip_last);
  REQUIRE(skipped.ok());
  CHECK(skipped->ok());
  CHECK(skipped->chunks_checked == plain->chunks_checked);
  CHECK(skipped->bytes_hashed == plain->bytes_hashed - last.size);

  // Everything marked verified: an extra file and a wrong size are still found.
  modelswarm::ChunkCheckOptions all;
  all.already_verified = [](size_t, size_t) { return true; };
  mstest::write_file((p.dir / "extra.bin").string(), "x");
  fs::resize_file(p.dir / m.files[fi].path, m.files[fi].size + 1);
  auto structural = modelswarm::verify_chunks(p.dir, m, all);
  REQUIRE(structural.ok());
  CHECK(structural->bytes_hashed == 0);
  REQUIRE(structural->problems.size() == 2);
  std::set<modelswarm::ContentProblem::Kind> kinds;
  for (const auto& pr : structural->problems) kinds.insert(pr.kind);
  CHECK(kinds.count(modelswarm::ContentProblem::Kind::extra) == 1);
  CHECK(kinds.count(modelswarm::ContentProblem::Kind::size_mismatch) == 1);
}

TEST_CASE("a single file is packed into a directory of its own") {
  mstest::ReleaseEnv env;
  std::string pub = env.keygen("k");
  fs::create_directories(env.tmp / "models");
  mstest::write_test_gguf(env.tmp / "models" / "m.gguf", 3);
  mstest::write_file((env.tmp / "models" / "other.txt").string(), "not part of it");
  auto r = run_cli({"pack", (env.tmp / "models" / "m.gguf").string(), "--key", env.key("k"), "--name", "m1",
                    "--version", "1", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j["release_dir"] == (env.tmp / "models" / "m1").string());
  // With --json, progress is JSON lines on stderr, ending with the whole input hashed.
  json last;
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);)
    if (auto e = json::parse(line, nullptr, false); !e.is_discarded() && e.value("event", "") == "progress") last = e;
  REQUIRE(last.is_object());
  CHECK(last["phase"] == "hashing");
  CHECK(last["done"] == last["total"]);
  CHECK(last["total"].get<std::uint64_t>() >= j["bytes"].get<std::uint64_t>());
  CHECK(fs::equivalent(env.tmp / "models" / "m1" / "m.gguf", env.tmp / "models" / "m.gguf"));
  CHECK(run_cli({"verify", (env.tmp / "models" / "m1").string(), "--trust", pub}).exit_code == 0);
}

TEST_CASE("usage and key errors: missing flags, bad piece size, no password source on a non-TTY") {
  mstest::ReleaseEnv env;
  env.keygen("k");
  mstest::make_model_dir(env.tmp / "rel");
  CHECK(run_cli({"pack", (env.tmp / "rel").string(), "--key", env.key("k")}).exit_code == 2);
  CHECK(run_cli({"pack", (env.tmp / "rel").string(), "--key", env.key("k"), "--name", "x", "--version", "1",
                 "--piece-size", "3M"}).exit_code == 2);
  CHECK(run_cli({"pack", (env.tmp / "rel").string(), "--key", env.key("k"), "--name", "../x", "--version", "1"})
            .exit_code == 2);
  CHECK(run_cli({"verify", (env.tmp / "rel").string()}).exit_code == 7);  // not packed: not a release
  auto kg = run_cli({"keygen", "-o", (env.tmp / "enc").string()});
  CHECK(kg.exit_code == 2);
  CHECK(kg.err.find("not a terminal") != std::string::npos);
  CHECK_FALSE(fs::exists(env.tmp / "enc.key"));
  CHECK(run_cli({"keygen", "--no-password", "-o", (env.tmp / "k").string()}).exit_code == 2);  // exists
}

TEST_CASE("minisign interop at the CLI: minisign keys pack, minisign signatures verify, encrypted keys both ways") {
  // minisign -G encrypts with scrypt's sensitive cost (1 GiB, seconds): two such derivations.
  Packed p;
  auto t = [&](const char* n) { return (p.env.tmp / n).string(); };
  std::string manifest = (p.dir / modelswarm::kManifestPath).string();
  auto pack_with = [&](const std::string& key, const std::string& version) {
    return run_cli({"pack", p.dir.string(), "--key", key, "--name", "tiny-llama", "--version", version},
                   std::chrono::seconds(180));
  };
  SUBCASE("an unencrypted minisign key packs, and minisign -S re-signs the manifest") {
    REQUIRE(mstest::run({"minisign", "-G", "-W", "-p", t("w.pub"), "-s", t("w.key")}).exit_code == 0);
    REQUIRE(pack_with(t("w.key"), "6").exit_code == 0);
    CHECK(run_cli({"verify", p.dir.string(), "--trust", t("w.pub")}).exit_code == 0);
    fs::remove(p.dir / modelswarm::kSignaturePath);
    REQUIRE(mstest::run({"minisign", "-S", "-s", t("w.key"), "-m", manifest, "-t", "signed by minisign"}).exit_code == 0);
    auto v = run_cli({"verify", p.dir.string(), "--trust", t("w.pub"), "--json"});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
    CHECK(json::parse(v.out)["trusted_comment"] == "signed by minisign");
  }
  SUBCASE("an encrypted minisign key (password on minisign's stdin) packs with MODELSWARM_PASSWORD") {
    auto g = mstest::run({"minisign", "-G", "-p", t("ms.pub"), "-s", t("ms.key")}, std::chrono::seconds(180),
                         "pw-ms\npw-ms\n");
    REQUIRE(g.exit_code == 0);
    auto nopw = pack_with(t("ms.key"), "6");  // stdin is not a terminal: no prompt, a usage error
    CHECK(nopw.exit_code == 2);
    CHECK(nopw.err.find("MODELSWARM_PASSWORD") != std::string::npos);
    setenv("MODELSWARM_PASSWORD", "pw-ms", 1);
    auto r = pack_with(t("ms.key"), "6");
    unsetenv("MODELSWARM_PASSWORD");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(run_cli({"verify", p.dir.string(), "--trust", t("ms.pub")}).exit_code == 0);
  }
  SUBCASE("an encrypted modelswarm key (--password-file) packs, and signs in minisign") {
    mstest::write_file(t("pwfile"), "pw-modelswarm\n");
    auto kg = run_cli({"keygen", "-o", t("enc"), "--password-file", t("pwfile"), "--fast-kdf"});
    REQUIRE(kg.exit_code == 0);
    CHECK(pack_with(t("enc.key"), "6").exit_code == 2);  // encrypted: needs a password source
    auto r = run_cli({"pack", p.dir.string(), "--key", t("enc.key"), "--password-file", t("pwfile"), "--name",
                      "tiny-llama", "--version", "6"});
    REQUIRE(r.exit_code == 0);
    CHECK(run_cli({"verify", p.dir.string(), "--trust", t("enc.pub")}).exit_code == 0);
    auto s = mstest::run({"minisign", "-S", "-s", t("enc.key"), "-m", manifest, "-x", t("m.sig")},
                         std::chrono::seconds(180), "pw-modelswarm\n");
    REQUIRE(s.exit_code == 0);
    CHECK(mstest::run({"minisign", "-V", "-p", t("enc.pub"), "-m", manifest, "-x", t("m.sig")}).exit_code == 0);
  }
}

TEST_CASE("safetensors shards are chunked per tensor; a corrupt shard names the tensor") {
  mstest::ReleaseEnv env;
  std::string pub = env.keygen("k");
  fs::path dir = env.tmp / "st";
  fs::create_directories(dir);
  for (int shard = 1; shard <= 2; ++shard) {
    modelswarm::SafetensorsWriter w;
    REQUIRE(w.add_tensor("layers." + std::to_string(shard) + ".w", "BF16", {4, 8}).ok());
    REQUIRE(w.add_tensor("layers." + std::to_string(shard) + ".b", "F32", {3}).ok());
    REQUIRE(w.begin(dir / ("model-0000" + std::to_string(shard) + "-of-00002.safetensors")).ok());
    std::string data = mstest::random_data(4 * 8 * 2 + 3 * 4, static_cast<uint32_t>(shard));
    REQUIRE(w.write_data(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size())).ok());
    REQUIRE(w.finish().ok());
  }
  auto r = run_cli({"pack", dir.string(), "--key", env.key("k"), "--name", "st", "--version", "1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto m = modelswarm::parse_manifest(mstest::read_file((dir / modelswarm::kManifestPath).string()));
  REQUIRE(m.ok());
  const auto& f = m->files[1];
  CHECK(f.format == modelswarm::FileFormat::safetensors);
  REQUIRE(f.chunks.size() == 3);
  CHECK(f.chunks[1].name == "layers.2.w");  // declaration order = offset order
  CHECK(*f.chunks[1].dtype == "BF16");
  CHECK(*f.chunks[1].shape == std::vector<uint64_t>{4, 8});
  flip_byte(dir / f.path, f.chunks[2].offset);
  auto v = run_cli({"verify", dir.string(), "--trust", pub, "--json"});
  CHECK(v.exit_code == 4);
  CHECK(json::parse(v.out)["problems"][0]["chunk"] == "layers.2.b");
}

TEST_CASE("pack guards the publisher: no past expiry, no going back, never two manifests for one version") {
  Packed p(5);
  auto pack = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"pack", p.dir.string(), "--key", p.env.key("k1"), "--name", "tiny-llama"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  std::string first = mstest::read_file((p.dir / modelswarm::kManifestPath).string());
  SUBCASE("an expiry date in the past (2), nothing written") {
    auto r = pack({"--version", "6", "--expires", "2020-01-01"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("in the past") != std::string::npos);
    CHECK(mstest::read_file((p.dir / modelswarm::kManifestPath).string()) == first);
  }
  SUBCASE("a version lower than one this key signed (2) unless --allow-downgrade") {
    CHECK(pack({"--version", "4"}).exit_code == 2);
    CHECK(pack({"--version", "4", "--allow-downgrade"}).exit_code == 0);
  }
  SUBCASE("the same content again under the same version: the identical manifest") {
    auto r = pack({"--version", "5"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(mstest::read_file((p.dir / modelswarm::kManifestPath).string()) == first);
  }
  SUBCASE("different content under a version already signed (2); --resign replaces it, and a verifier "
          "that saw the first refuses the second (3)") {
    REQUIRE(p.verify().exit_code == 0);  // this machine accepted the first manifest of version 5
    mstest::write_file((p.dir / "README.md").string(), "changed after signing\n");
    auto r = pack({"--version", "5"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("already signed a different manifest") != std::string::npos);
    CHECK(mstest::read_file((p.dir / modelswarm::kManifestPath).string()) == first);
    r = pack({"--version", "5", "--resign"});
    REQUIRE(r.exit_code == 0);
    // This machine accepted the first manifest of version 5, so it refuses the second one
    // before it reads any model file.
    auto j = expect_refused(p, 3);
    CHECK(j["error"]["message"].get<std::string>().find("two different manifests") != std::string::npos);
  }
}

TEST_CASE("pack follows a link to a single model file; links inside a release directory are refused (7)") {
  mstest::ReleaseEnv env;
  env.keygen("k1");
  fs::path src = env.tmp / "blobs";
  mstest::make_model_dir(src);
  fs::path link = env.tmp / "model.gguf";
  fs::create_symlink(src / "model.gguf", link);
  auto r = run_cli({"pack", link.string(), "--key", env.key("k1"), "--name", "linked", "--version", "1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  fs::path placed = env.tmp / "linked" / "model.gguf";
  CHECK(fs::is_regular_file(fs::symlink_status(placed)));
  CHECK(mstest::read_file(placed.string()) == mstest::read_file((src / "model.gguf").string()));
  CHECK(run_cli({"verify", (env.tmp / "linked").string(), "--trust", env.pub("k1")}).exit_code == 0);

  fs::path dir = env.tmp / "withlink";
  fs::create_directories(dir);
  fs::create_symlink(src / "model.gguf", dir / "model.gguf");
  r = run_cli({"pack", dir.string(), "--key", env.key("k1"), "--name", "withlink", "--version", "1"});
  CHECK(r.exit_code == 7);
  CHECK(r.err.find("symbolic link") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / modelswarm::kReleaseMetaDir));
  // A failed single-file pack leaves no release directory behind.
  r = run_cli({"pack", link.string(), "--key", env.key("k1"), "--name", "later", "--version", "1",
               "--expires", "2020-01-01"});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(fs::exists(env.tmp / "later"));
}

TEST_CASE("verify: a symlinked .modelswarm is a content failure (4); a duplicate JSON key in the manifest (7)") {
  Packed p;
  fs::path meta = p.dir / modelswarm::kReleaseMetaDir;
  fs::rename(meta, p.env.tmp / "meta-elsewhere");
  fs::create_directory_symlink(p.env.tmp / "meta-elsewhere", meta);
  expect_refused(p, 4);
  fs::remove(meta);
  fs::rename(p.env.tmp / "meta-elsewhere", meta);
  std::string text = mstest::read_file((p.dir / modelswarm::kManifestPath).string());
  text.replace(text.find("  \"name\""), 0, "  \"name\": \"other-name\",\n");
  p.resign(text);
  auto j = expect_refused(p, 7);
  CHECK(j["error"]["message"].get<std::string>().find("duplicate key") != std::string::npos);
}

TEST_CASE("a key of the wrong kind is named as such (2)") {
  Packed p;
  auto r = run_cli({"verify", p.dir.string(), "--trust", p.env.key("k1")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("secret key") != std::string::npos);
  r = run_cli({"pack", p.dir.string(), "--key", p.env.pub("k1"), "--name", "tiny-llama", "--version", "6"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("public key") != std::string::npos);
  // A secret key pasted in place of a public key is not echoed back.
  std::string secret_line = mstest::read_file(p.env.key("k1"));
  secret_line = secret_line.substr(secret_line.find('\n') + 1);
  secret_line = secret_line.substr(0, secret_line.find('\n'));
  r = run_cli({"verify", p.dir.string(), "--trust", secret_line});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(secret_line.substr(20, 40)) == std::string::npos);
}
