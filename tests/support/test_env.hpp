// What the environment tells a suite about the run it is part of.
#pragma once

#include <cstdlib>
#include <string>

namespace mstest {

// MODELSWARM_SANITIZED is set to a true value (non-empty, not "0"): scripts/test.sh does so
// for the ASan/UBSan and TSan builds, which run several times slower, so suites shrink their
// workloads.
inline bool sanitized() {
  const char* s = std::getenv("MODELSWARM_SANITIZED");
  return s && *s && std::string(s) != "0";
}

}  // namespace mstest
