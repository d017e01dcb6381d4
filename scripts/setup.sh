#!/usr/bin/env bash
# Installs every Debian 12 package that modelswarm's build, tests, fuzzers and benchmarks need,
# then configures and builds the project. Idempotent; runs as root without prompts.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  build-essential cmake pkg-config g++ clang-14 libclang-rt-14-dev
  libtorrent-rasterbar-dev libboost-dev libboost-system-dev
  libsodium-dev libzstd-dev zstd libcli11-dev doctest-dev nlohmann-json3-dev libssl-dev openssl
  libcurl4-openssl-dev libutf8proc-dev
  minisign opentracker nginx-light curl groff man-db iproute2 procps time
  iputils-ping ethtool python3-libtorrent
  nodejs lintian systemd dpkg-dev adduser
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# npm (for the reference clients the gateway tests drive): Debian's package, unless a nodejs
# that bundles its own npm is installed already (NodeSource's conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || dpkg-query -W -f='${Status}' npm 2>/dev/null | grep -q 'ok installed' ||
  missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Build type, sanitizer and targets (BUILD_TARGETS, default all) come from the caller so CI can
# build each variant with what it runs.
build_dir=${BUILD_DIR:-$here/build}
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} ${CMAKE_EXTRA:-} >/dev/null
targets=()
for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
