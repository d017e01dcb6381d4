// The CLI's global contract: help, version, usage errors and their exit codes.
#include <doctest/doctest.h>

#include "process.hpp"

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
