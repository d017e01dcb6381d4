#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds the normal and the
# AddressSanitizer+UBSan variants, runs the whole CTest suite in each, then smoke-runs the fuzzers.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

BUILD_DIR="$here/build" BUILD_TYPE=Release bash "$here/scripts/setup.sh"
(cd "$here/build" && ctest --output-on-failure -j"$jobs" --timeout 900)

BUILD_DIR="$here/build-asan" BUILD_TYPE=RelWithDebInfo CMAKE_EXTRA="-DMODELSWARM_SANITIZE=ON" \
  bash "$here/scripts/setup.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Sanitized binaries are slower; the suites read MODELSWARM_SANITIZED to shrink workloads.
(cd "$here/build-asan" && MODELSWARM_SANITIZED=1 ctest --output-on-failure -j"$jobs" --timeout 1200)

if [ -x "$here/scripts/fuzz.sh" ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-20} bash "$here/scripts/fuzz.sh"
fi
echo "test.sh: all suites passed"
