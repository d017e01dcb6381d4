// Releases for the store suites: GGUF and sharded safetensors models written by make_test_model,
// packed through the library with one key per test binary.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "modelswarm/minisign.hpp"
#include "modelswarm/release.hpp"
#include "process.hpp"
#include "tempdir.hpp"
#include "test_env.hpp"

namespace storetest {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

using mstest::sanitized;

// A private MODELSWARM_HOME (registry, trust store, rollback state) for one test case.
struct Home {
  mstest::TempDir dir;
  Home() { setenv("MODELSWARM_HOME", (dir.path() / "home").c_str(), 1); }
  ~Home() { unsetenv("MODELSWARM_HOME"); }
};

inline const modelswarm::KeyPair& test_key() {
  static modelswarm::KeyPair kp = modelswarm::generate_key_pair();
  return kp;
}
inline std::string public_key() { return test_key().public_key.to_base64(); }

inline std::string make_test_model() { return std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model"; }

// Model shape shared by a v1/v2 pair: only general.name differs between them, which changes
// the GGUF header's length and so shifts every tensor.
struct GgufShape {
  int dim = 512, layers = 4, ffn = 1536, heads = 8, kv_heads = 4, vocab = 1000;
  std::string type = "Q4_0";
};

inline void write_gguf(const fs::path& file, const std::string& general_name, const GgufShape& s,
                       uint32_t seed = 1) {
  fs::create_directories(file.parent_path());
  auto r = mstest::run({make_test_model(), "--gguf", file.string(), "--seed", std::to_string(seed),
                        "--dim", std::to_string(s.dim), "--layers", std::to_string(s.layers), "--ffn",
                        std::to_string(s.ffn), "--heads", std::to_string(s.heads), "--kv-heads",
                        std::to_string(s.kv_heads), "--vocab", std::to_string(s.vocab), "--type", s.type,
                        "--name", general_name, "--threads", "2"},
                       300s);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

// Four BF16 shards (+ index, config, tokenizer) under `dir`.
inline void write_sharded(const fs::path& dir, uint32_t seed, int shards = 4) {
  auto r = mstest::run({make_test_model(), "--hf-dir", dir.string(), "--seed", std::to_string(seed), "--dim",
                        "256", "--layers", "4", "--ffn", "768", "--heads", "4", "--vocab", "1000", "--shards",
                        std::to_string(shards), "--safetensors-dtype", "BF16", "--threads", "2"},
                       300s);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

struct Packed {
  fs::path dir;
  std::string magnet;
  std::string info_hash;
  modelswarm::Manifest manifest;
  uint64_t piece_size = 0;
};

inline Packed pack(const fs::path& dir, const std::string& name, uint64_t version, uint64_t piece_size) {
  modelswarm::PackOptions o;
  o.name = name;
  o.version = version;
  o.key = &test_key().secret_key;
  o.piece_size = piece_size;
  o.created = 1700000000;
  // One test key packs many unrelated releases, in any order: not the publisher mistakes that
  // pack guards against (test_release checks those).
  o.allow_downgrade = true;
  o.resign = true;
  auto res = modelswarm::pack_release(dir, o);
  REQUIRE_MESSAGE(res.ok(), (res.ok() ? "" : res.error().message));
  return {res->release_dir, res->magnet, res->info_hash_v2, res->manifest, res->piece_size};
}

// Two versions of one GGUF model, the same tensors under a different general.name, packed as
// versions 1 and 2 in 64 KiB pieces.
struct GgufPair {
  mstest::TempDir tmp;
  Packed v1, v2;
  GgufPair() {
    GgufShape s;
    write_gguf(tmp / "v1" / "model.gguf", "tiny", s);
    write_gguf(tmp / "v2" / "model.gguf", "tiny-llama-chat-v2 with a fixed chat template", s);
    v1 = pack(tmp / "v1", "tiny", 1, 64 << 10);
    v2 = pack(tmp / "v2", "tiny", 2, 64 << 10);
  }
};

inline json parse_json(const std::string& out) {
  auto j = json::parse(out, nullptr, false);
  REQUIRE_MESSAGE(!j.is_discarded(), out);
  return j;
}

}  // namespace storetest
