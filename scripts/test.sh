#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds the normal and the
# AddressSanitizer+UBSan variants, runs the whole CTest suite in each, runs the multi-threaded
# suites under ThreadSanitizer, then smoke-runs the fuzzers.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

BUILD_DIR="$here/build" BUILD_TYPE=Release bash "$here/scripts/setup.sh"
# The whole suite, test_llamacpp (label llamacpp) included: it installs node-llama-cpp once into
# build/tests/npm-llamacpp and compares with llama.cpp when the npm registry is reachable.
(cd "$here/build" && ctest --output-on-failure -j"$jobs" --timeout 900)

BUILD_DIR="$here/build-asan" BUILD_TYPE=RelWithDebInfo CMAKE_EXTRA="-DMODELSWARM_SANITIZE=ON" \
  bash "$here/scripts/setup.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Sanitized binaries are slower; the suites read MODELSWARM_SANITIZED to shrink workloads.
(cd "$here/build-asan" && MODELSWARM_SANITIZED=1 ctest --output-on-failure -j"$jobs" --timeout 1200)
unset ASAN_OPTIONS UBSAN_OPTIONS

# ThreadSanitizer, only on the suites whose code runs on several threads: the kernels and their
# thread pool, the parallel hasher, reuse, the bundle reader, the swarm (its CLI processes are
# instrumented too; a race there makes them exit 66). Only those targets are built.
tsan_suites=(test_kernels test_crypto test_store_reuse test_bundle test_swarm)
BUILD_DIR="$here/build-tsan" BUILD_TYPE=RelWithDebInfo CMAKE_EXTRA="-DMODELSWARM_TSAN=ON" \
  BUILD_TARGETS="${tsan_suites[*]}" bash "$here/scripts/setup.sh"
export TSAN_OPTIONS="suppressions=$here/tests/tsan.supp:second_deadlock_stack=1:history_size=4"
(cd "$here/build-tsan" && MODELSWARM_SANITIZED=1 ctest --output-on-failure -j"$jobs" --timeout 1800 \
  -R "^($(IFS='|'; echo "${tsan_suites[*]}"))\$")
unset TSAN_OPTIONS

if [ -x "$here/scripts/fuzz.sh" ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-20} bash "$here/scripts/fuzz.sh"
fi
echo "test.sh: all suites passed"
