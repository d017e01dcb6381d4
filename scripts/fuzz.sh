#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp; clang-14, ASan+UBSan) in fuzz-build/ and
# runs each for FUZZ_SECONDS (default 20) from its seed corpus in tests/fuzz/corpus/<target>/.
# Exits non-zero when a target crashes, leaks, times out or allocates too much; the input that
# did it is kept in fuzz-build/artifacts/. Called by scripts/test.sh.
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh            # longer run
#   FUZZ_TARGETS="fuzz_gguf" bash scripts/fuzz.sh     # only some targets
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$here/fuzz-build}
seconds=${FUZZ_SECONDS:-20}

CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMODELSWARM_FUZZ=ON -DMODELSWARM_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzzers

targets=${FUZZ_TARGETS:-$(cd "$here/tests/fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//')}
mkdir -p "$build/artifacts"
failed=()
for name in $targets; do
  bin="$build/tests/fuzz/$name"
  corpus="$build/corpus/$name"   # grows across runs; new inputs are written here
  seeds="$here/tests/fuzz/corpus/$name"
  mkdir -p "$corpus"
  dirs=("$corpus")
  [ -d "$seeds" ] && dirs+=("$seeds")
  echo "fuzz.sh: $name for ${seconds}s"
  # malloc_limit_mb: inputs are at most 64 KiB, so any allocation over 256 MB is a bug.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb=256 -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" \
      "${dirs[@]}" >"$build/$name.log" 2>&1; then
    tail -n 60 "$build/$name.log" >&2
    failed+=("$name")
  else
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)" "$build/$name.log" || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: all targets ran ${seconds}s without a finding"
