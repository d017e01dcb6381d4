// The CLI's global contract: help, version, usage errors and their exit codes.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "subcommands.hpp"

using mstest::run_cli;

TEST_CASE("--version prints the version and exits 0") {
  auto r = run_cli({"--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("modelswarm " MODELSWARM_VERSION) != std::string::npos);
}

TEST_CASE("--help lists subcommands and exits 0") {
  auto r = run_cli({"--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("modelswarm") != std::string::npos);
}

TEST_CASE("no subcommand or an unknown one is a usage error (exit 2)") {
  CHECK(run_cli({}).exit_code == 2);
  CHECK(run_cli({"no-such-command"}).exit_code == 2);
}

TEST_CASE("with --json, every subcommand reports a usage error as one JSON document") {
  auto names = mstest::cli_subcommands();
  CHECK(names.size() >= 10);
  for (const auto& name : names) {
    INFO("subcommand " << name);
    auto r = run_cli({name, "--json", "--no-such-option"});
    CHECK(r.exit_code == 2);
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    REQUIRE(!doc.is_discarded());
    CHECK(doc["error"]["code"] == "invalid_argument");
    CHECK(doc["exit_code"] == 2);
    CHECK(r.err.find(doc["error"]["message"].get<std::string>()) != std::string::npos);
  }
}
