#!/usr/bin/env bash
# Kernel microbenchmarks: memory read bandwidth and peak int8 dot-product rate of this machine,
# then decode (matvec) as a share of that bandwidth and prefill (matmul) as a share of that
# peak, for every instruction set the CPU supports (the scalar kernels are the baseline).
# All figures come from the same run. Usage: scripts/bench_kernels.sh [bench_kernels options]
#   e.g. --type Q4_K, --rows 32000 --cols 2048, --tokens 256, --seconds 2, --threads 1, --json
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$here/build}
if [ ! -d "$build" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target bench_kernels >/dev/null
tool="$build/tests/bench_kernels"

isas=()
for isa in $("$tool" --list-isas | tac); do isas+=(--isa "$isa"); done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" \
     "(the CPU-time column discounts time lost to other processes)"
"$tool" "${isas[@]}" "$@"
