#!/usr/bin/env bash
# Sets everything up and runs every test: installs packages, builds (warnings are errors), runs the
# whole CTest suite, then the engine and server tests again under AddressSanitizer + UBSan.
# Long campaigns read KEYVA_TEST_SCALE (default 1; raise it for longer runs by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --browser

KEYVA_BUILD_DIR=build scripts/build.sh -DKEYVA_WERROR=ON -DKEYVA_BUILD_BENCH=ON
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 1800

if [[ ${KEYVA_SKIP_SANITIZERS:-0} != 1 ]]; then
  KEYVA_BUILD_DIR=build-asan scripts/build.sh -DKEYVA_WERROR=ON -DKEYVA_BUILD_BENCH=ON \
    -DKEYVA_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j "$(nproc)" \
    --timeout 1800 -L sanitize
fi
