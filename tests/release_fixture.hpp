// Test releases: a small GGUF model (written by the project's GGUF writer, with alignment
// padding between tensors), a tokenizer and a README, plus publisher keys made by the CLI.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "modelswarm/gguf_writer.hpp"
#include "modelswarm/sha256.hpp"
#include "process.hpp"
#include "tempdir.hpp"

namespace mstest {

inline std::string random_data(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Tensors: name -> (type, dims). Q4_0 rows of 64 elements are 36 bytes, so padding follows.
inline void write_test_gguf(const std::filesystem::path& path, uint32_t seed, const std::string& arch = "llama") {
  using namespace modelswarm;
  GgufWriter w;
  w.metadata().set("general.architecture", MetaValue::string(arch));
  REQUIRE(w.add_tensor("token_embd.weight", GgmlType::F32, {64, 8}).ok());
  REQUIRE(w.add_tensor("blk.0.attn_q.weight", GgmlType::Q4_0, {64, 3}).ok());
  REQUIRE(w.add_tensor("output.weight", GgmlType::F16, {32, 3}).ok());
  REQUIRE(w.begin(path).ok());
  uint64_t bytes = 64 * 8 * 4 + 36 * 3 + 32 * 3 * 2;
  std::string data = random_data(bytes, seed);
  REQUIRE(w.write_data(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size())).ok());
  REQUIRE(w.finish().ok());
}

inline void make_model_dir(const std::filesystem::path& dir, uint32_t seed = 1) {
  std::filesystem::create_directories(dir / "tokenizer");
  write_test_gguf(dir / "model.gguf", seed);
  write_file((dir / "README.md").string(), "a test model\n");
  write_file((dir / "tokenizer" / "vocab.json").string(), random_data(40000, seed + 100));
}

// Every file under `dir` (recursively) with its SHA-256: a snapshot to prove nothing changed.
inline std::map<std::string, std::string> snapshot(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_symlink()) out[e.path().string()] = "link";
    else if (e.is_regular_file()) out[e.path().string()] = modelswarm::to_hex(modelswarm::sha256(read_file(e.path().string())));
  }
  return out;
}

// A temporary MODELSWARM_HOME for the lifetime of a test, and key pairs made by the CLI.
struct ReleaseEnv {
  TempDir tmp;
  std::filesystem::path home = tmp / "home";
  ReleaseEnv() {
    setenv("MODELSWARM_HOME", home.c_str(), 1);
    unsetenv("MODELSWARM_PASSWORD");
    unsetenv("SOURCE_DATE_EPOCH");
  }
  ~ReleaseEnv() { unsetenv("MODELSWARM_HOME"); }
  // Returns the public key (RW...); files at tmp/NAME.key and tmp/NAME.pub.
  std::string keygen(const std::string& name) {
    auto r = run_cli({"keygen", "--no-password", "-o", (tmp / name).string()});
    REQUIRE(r.exit_code == 0);
    std::string pub = r.out.substr(0, r.out.find('\n'));
    REQUIRE(pub.substr(0, 2) == "RW");
    return pub;
  }
  std::string key(const std::string& name) const { return (tmp / (name + ".key")).string(); }
  std::string pub(const std::string& name) const { return (tmp / (name + ".pub")).string(); }
};

}  // namespace mstest
