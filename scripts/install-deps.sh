#!/usr/bin/env bash
# Installs every Debian package keyva needs to build, test and run. Idempotent: safe to run again.
# Usage: scripts/install-deps.sh [--browser] [--bench]
#   --browser adds Chromium + Node for the web-page tests;
#   --bench adds the peer engines, wrk and gnuplot for bench/run.sh.
set -euo pipefail

want_browser=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --bench) want_bench=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

packages=(
  build-essential g++ cmake ninja-build pkg-config git curl
  libboost1.81-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev catch2
  libxxhash-dev liblz4-dev libzstd-dev libssl-dev
)
if [[ $want_browser -eq 1 ]]; then
  packages+=(chromium)
  # Node.js 20 and npm may come from elsewhere (the machine image's nodejs bundles npm and
  # conflicts with Debian's npm package): only ask Debian for them when they are missing.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi
if [[ $want_bench -eq 1 ]]; then
  packages+=(librocksdb-dev libleveldb-dev liblmdb-dev wrk gnuplot-nox)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
