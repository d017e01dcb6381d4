// Documentation is part of the contract: every man page renders without groff warnings, and
// every subcommand the CLI offers has its own page.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "process.hpp"
#include "subcommands.hpp"

namespace fs = std::filesystem;

namespace {
fs::path man_dir() { return fs::path(MODELSWARM_SOURCE_DIR) / "man"; }

}  // namespace

TEST_CASE("every man page renders with groff -ww without warnings") {
  int pages = 0;
  for (const auto& e : fs::directory_iterator(man_dir())) {
    if (e.path().extension() != ".1") continue;
    ++pages;
    auto r = mstest::run({"groff", "-ww", "-man", "-Tutf8", e.path().string()},
                         std::chrono::seconds(30));
    INFO(e.path().string() << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.size() > 200);
  }
  CHECK(pages >= 1);
}

TEST_CASE("every subcommand has a man page, and the overview names it") {
  std::string overview = mstest::read_file((man_dir() / "modelswarm.1").string());
  REQUIRE(!overview.empty());
  for (const auto& name : mstest::cli_subcommands()) {
    INFO("subcommand " << name);
    CHECK(fs::exists(man_dir() / ("modelswarm-" + name + ".1")));
    std::regex listed("\\n\\.BR? [^\\n]*\\b" + name + "\\b");
    CHECK(std::regex_search(overview, listed));
  }
}

TEST_CASE("every subcommand's page documents its --json output") {
  for (const auto& name : mstest::cli_subcommands()) {
    INFO("subcommand " << name);
    std::string page = mstest::read_file((man_dir() / ("modelswarm-" + name + ".1")).string());
    CHECK(page.find("\\-\\-json") != std::string::npos);
  }
}
