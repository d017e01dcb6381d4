// The library is installable: `cmake --install`, then a separate project finds it with
// find_package(modelswarm), builds against the public headers, and packs + verifies a release.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "process.hpp"
#include "tempdir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST_CASE("an installed modelswarm is usable from another CMake project") {
  mstest::TempDir tmp;
  setenv("MODELSWARM_HOME", (tmp / "home").c_str(), 1);
  fs::path build_dir = fs::path(MODELSWARM_CLI).parent_path().parent_path();
  fs::path prefix = tmp / "prefix";
  auto inst = mstest::run({"cmake", "--install", build_dir.string(), "--prefix", prefix.string()}, 120s);
  INFO(inst.out << inst.err);
  REQUIRE(inst.exit_code == 0);
  CHECK(fs::exists(prefix / "include/modelswarm/release.hpp"));
  CHECK(fs::exists(prefix / "bin/modelswarm"));
  CHECK(fs::exists(prefix / "share/man/man1/modelswarm.1"));

  fs::path src = fs::path(MODELSWARM_SOURCE_DIR) / "tests/embed";
  fs::path ebuild = tmp / "embed-build";
  // The example must build with the same sanitizer flags as the library it links.
  std::string flags = std::getenv("MODELSWARM_SANITIZED") ? "-fsanitize=address,undefined" : "";
  auto cfg = mstest::run({"cmake", "-S", src.string(), "-B", ebuild.string(),
                          "-DCMAKE_PREFIX_PATH=" + prefix.string(), "-DCMAKE_BUILD_TYPE=Release",
                          "-DCMAKE_CXX_FLAGS=" + flags, "-DCMAKE_EXE_LINKER_FLAGS=" + flags},
                         120s);
  INFO(cfg.out << cfg.err);
  REQUIRE(cfg.exit_code == 0);
  auto bld = mstest::run({"cmake", "--build", ebuild.string()}, 300s);
  INFO(bld.out << bld.err);
  REQUIRE(bld.exit_code == 0);

  fs::path model_dir = tmp / "model";
  fs::create_directories(model_dir);
  auto gen = mstest::run({std::string(MODELSWARM_TEST_TOOLS_DIR) + "/make_test_model", "--gguf",
                          (model_dir / "tiny.gguf").string(), "--seed", "7", "--type", "Q4_0"},
                         60s);
  INFO(gen.err);
  REQUIRE(gen.exit_code == 0);

  auto run = mstest::run({(ebuild / "pack_and_verify").string(), model_dir.string(), "tiny", "1"}, 60s);
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.rfind("magnet:?xt=urn:btmh:1220", 0) == 0);
  CHECK(run.out.find("verified 1 files") != std::string::npos);

  // A directory that does not exist is an error from the library, not a crash.
  auto again = mstest::run({(ebuild / "pack_and_verify").string(), (tmp / "nope").string(), "x", "1"}, 60s);
  CHECK(again.exit_code != 0);
}
