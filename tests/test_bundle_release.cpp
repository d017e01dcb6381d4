// `modelswarm export` / `import` end to end through the real CLI: a generated release (GGUF Q4_0
// with a Q6_K output matrix, plus an HF safetensors BF16 copy) survives the round trip
// byte for byte and verifies; tampered or untrusted bundles are refused with the documented exit
// code and leave nothing under a final name.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bundle/bundle_format.hpp"
#include "process.hpp"
#include "release_fixture.hpp"

namespace fs = std::filesystem;
using mstest::run_cli;

namespace {

std::string tool() { return std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model"; }

// One release for all cases: generating and packing it is the slow part.
struct BundleFixture {
  mstest::ReleaseEnv env;
  fs::path rel = env.tmp / "rel";
  fs::path bundle = env.tmp / "rel.msb";
  std::string pub;

  BundleFixture() {
    pub = env.keygen("pub");
    fs::create_directories(rel);
    auto g = mstest::run({tool(), "--gguf", (rel / "model-q4_0.gguf").string(), "--type", "Q4_0",
                          "--output-type", "Q6_K", "--hf-dir", (rel / "hf").string(),
                          "--safetensors-dtype", "BF16", "--dim", "256", "--vocab", "2048",
                          "--seed", "5", "--threads", "2"},
                         std::chrono::seconds(120));
    REQUIRE_MESSAGE(g.exit_code == 0, g.err);
    auto p = run_cli({"pack", rel.string(), "-k", env.key("pub"), "-n", "bundle-test", "-V", "1", "-q"});
    REQUIRE_MESSAGE(p.exit_code == 0, p.err);
    auto e = run_cli({"export", rel.string(), "-o", bundle.string(), "--json"});
    REQUIRE_MESSAGE(e.exit_code == 0, e.err);
    export_doc = nlohmann::json::parse(e.out);
  }

  nlohmann::json export_doc;

  // Copy of the bundle with `edit` applied, under a new name.
  fs::path tampered(const std::string& name, const std::function<void(std::string&)>& edit) {
    std::string b = mstest::read_file(bundle.string());
    edit(b);
    fs::path p = env.tmp / name;
    mstest::write_file(p.string(), b);
    return p;
  }

  uint64_t header_u64(const std::string& b, size_t at) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(b[at + i]);
    return v;
  }
  // Offset of the torrent's "piece layers" key.
  size_t piece_layers(const std::string& b) {
    size_t at = b.find("12:piece layers", modelswarm::kBundleHeaderBytes + header_u64(b, 16));
    REQUIRE(at < data_offset(b));
    return at;
  }
  uint64_t data_offset(const std::string& b) {
    return modelswarm::kBundleHeaderBytes + header_u64(b, 16) + header_u64(b, 24) + header_u64(b, 32);
  }
};

// A refused import leaves no file under the destination (which it created and removes again).
void check_nothing_written(const fs::path& dest) {
  if (!fs::exists(dest)) return;
  for (auto& e : fs::recursive_directory_iterator(dest))
    CHECK_MESSAGE(!e.is_regular_file(), "left behind: " << e.path());
}

}  // namespace

TEST_CASE_FIXTURE(BundleFixture, "round trip: import reproduces the release exactly and it verifies") {
  CHECK(export_doc["bytes_in"].get<uint64_t>() > 0);
  CHECK(export_doc["bytes_out"].get<uint64_t>() == fs::file_size(bundle));
  CHECK(export_doc["grouped_frames"].get<uint64_t>() > 0);  // the BF16 tensors
  CHECK(export_doc["ratio"].get<double>() > 1.0);
  CHECK(export_doc.contains("seconds"));

  fs::path parent = env.tmp / "imported";
  fs::path dest = parent / "bundle-test";  // DIR/NAME, as fetch lays it out
  auto r = run_cli({"import", bundle.string(), "-o", parent.string(), "--trust", pub, "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["name"] == "bundle-test");
  CHECK(doc["version"] == 1);
  CHECK(doc["torrent"] == true);
  CHECK(doc["bytes_out"] == export_doc["bytes_in"]);
  CHECK(doc["bytes_in"] == export_doc["bytes_out"]);
  CHECK(doc["release_dir"] == dest.string());

  // Same files, same bytes, manifest, signature and torrent included; no staging left over.
  auto before = mstest::snapshot(rel), after = mstest::snapshot(dest);
  REQUIRE(before.size() == after.size());
  for (auto& [path, hash] : before) {
    std::string rel_path = fs::relative(path, rel).string();
    INFO(rel_path);
    CHECK(after[(dest / rel_path).string()] == hash);
  }
  auto v = run_cli({"verify", dest.string(), "--trust", pub});
  CHECK_MESSAGE(v.exit_code == 0, v.err);

  // Importing again over the same names is refused before anything is touched, as fetch and
  // mirror refuse it: a non-empty DIR/NAME is a usage error (2).
  auto again = run_cli({"import", bundle.string(), "-o", parent.string(), "--trust", pub});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("not empty") != std::string::npos);
  CHECK(mstest::snapshot(dest) == after);
}

TEST_CASE_FIXTURE(BundleFixture, "the trust store is used when no --trust is given") {
  fs::path dest = env.tmp / "untrusted";
  auto r = run_cli({"import", bundle.string(), "-o", dest.string()});
  CHECK(r.exit_code == 3);
  check_nothing_written(dest);
  CHECK(!fs::exists(dest));
  REQUIRE(run_cli({"trust", "add", env.pub("pub")}).exit_code == 0);
  r = run_cli({"import", bundle.string(), "-o", dest.string(), "-q"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(fs::exists(dest / "bundle-test" / ".modelswarm" / "manifest.json"));
}

TEST_CASE_FIXTURE(BundleFixture, "tampered, truncated or untrusted bundles are refused") {
  std::string good = mstest::read_file(bundle.string());
  uint64_t data = data_offset(good);
  struct Case {
    std::string name;
    std::function<void(std::string&)> edit;
    std::vector<int> codes;
  };
  std::vector<Case> cases = {
      {"frame", [&](std::string& b) { b[data + (b.size() - data) / 2] ^= 0x10; }, {4, 7}},
      {"first-frame", [&](std::string& b) { b[data + 20] ^= 0x01; }, {4, 7}},
      {"manifest", [&](std::string& b) { b[modelswarm::kBundleHeaderBytes + 40] ^= 0x01; }, {3}},
      // In the signature's base64 line (the first line is an unsigned comment).
      {"signature", [&](std::string& b) { b[b.find('\n', modelswarm::kBundleHeaderBytes + header_u64(b, 16)) + 10] ^= 0x01; }, {3}},
      // The unsigned comment verifies, but the carried torrent covers the .minisig file's bytes.
      {"signature-comment", [&](std::string& b) { b[modelswarm::kBundleHeaderBytes + header_u64(b, 16) + 22] ^= 0x01; }, {4}},
      // The BF16 safetensors file is larger than one piece, so the torrent has a piece layer.
      {"torrent-layer", [&](std::string& b) { b[piece_layers(b) + 60] ^= 0x01; }, {4}},
      {"torrent-layer-key", [&](std::string& b) { b[piece_layers(b) + 20] ^= 0x01; }, {4}},
      {"torrent-info", [&](std::string& b) { b[b.find("6:lengthi", header_u64(b, 16)) + 9] ^= 0x02; }, {4, 7}},
      {"index", [&](std::string& b) { b[b.size() - 20] ^= 0x01; }, {4, 7}},
      {"magic", [&](std::string& b) { b[0] = 'X'; }, {7}},
      {"truncated", [&](std::string& b) { b.resize(b.size() - 1); }, {7}},
      {"truncated-half", [&](std::string& b) { b.resize(b.size() / 2); }, {7}},
      {"empty", [&](std::string& b) { b.clear(); }, {7}},
  };
  for (auto& c : cases) {
    INFO("case " << c.name);
    fs::path bad = tampered(c.name + ".msb", c.edit);
    fs::path dest = env.tmp / ("dest-" + c.name);
    auto r = run_cli({"import", bad.string(), "-o", dest.string(), "--trust", pub, "--json"});
    CHECK_MESSAGE(std::find(c.codes.begin(), c.codes.end(), r.exit_code) != c.codes.end(),
                  "exit " << r.exit_code << ": " << r.err);
    CHECK(r.err.find("modelswarm: error: ") != std::string::npos);
    // One line of error; with --json, stderr may also hold JSON-lines progress events.
    std::istringstream err(r.err);
    int text_lines = 0;
    for (std::string line; std::getline(err, line);) text_lines += line.rfind("{", 0) != 0;
    CHECK(text_lines == 1);
    auto doc = nlohmann::json::parse(r.out);
    CHECK(doc["exit_code"] == r.exit_code);
    check_nothing_written(dest);
  }

  // The right bundle with the wrong key.
  env.keygen("other");
  fs::path dest = env.tmp / "dest-wrong-key";
  auto r = run_cli({"import", bundle.string(), "-o", dest.string(), "--trust", env.pub("other")});
  CHECK(r.exit_code == 3);
  check_nothing_written(dest);

  // A destination that already holds unrelated files keeps them, and gets nothing new.
  fs::path existing = env.tmp / "existing";
  fs::create_directories(existing);
  mstest::write_file((existing / "keep.txt").string(), "mine\n");
  fs::path bad = tampered("frame2.msb", [&](std::string& b) { b[data + (b.size() - data) / 3] ^= 0x04; });
  r = run_cli({"import", bad.string(), "-o", existing.string(), "--trust", pub});
  CHECK((r.exit_code == 4 || r.exit_code == 7));
  std::vector<std::string> left;
  for (auto& e : fs::recursive_directory_iterator(existing)) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"keep.txt"});
}

TEST_CASE_FIXTURE(BundleFixture, "export refuses a release whose files differ from the manifest") {
  // Flip a byte in the middle of the GGUF's tensor data.
  fs::path gguf = rel / "model-q4_0.gguf";
  std::string b = mstest::read_file(gguf.string());
  b[b.size() / 2] ^= 0x01;
  mstest::write_file(gguf.string(), b);
  fs::path out = env.tmp / "bad-export.msb";
  auto r = run_cli({"export", rel.string(), "-o", out.string()});
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("model-q4_0.gguf") != std::string::npos);
  CHECK(!fs::exists(out));
  // And a directory that is not a release at all.
  r = run_cli({"export", (env.tmp / "nothing").string(), "-o", out.string()});
  CHECK(r.exit_code == 6);
}
