// The subcommands the real CLI offers, read from its --help, so that contract tests cover every
// command without a list that could drift from the code.
#pragma once

#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>

#include "process.hpp"

namespace mstest {

inline std::set<std::string> cli_subcommands() {
  auto r = run_cli({"--help"});
  REQUIRE(r.exit_code == 0);
  std::set<std::string> names;
  auto pos = r.out.find("Subcommands:");
  if (pos == std::string::npos) return names;
  std::regex line(R"(\n  ([a-z][a-z-]*)\s)");
  std::string rest = r.out.substr(pos);
  for (std::sregex_iterator it(rest.begin(), rest.end(), line), end; it != end; ++it)
    names.insert((*it)[1]);
  return names;
}

}  // namespace mstest
