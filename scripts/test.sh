#!/usr/bin/env bash
# Sets everything up and runs every test: installs packages (Chromium too, and the browser tests'
# npm packages), builds (warnings are errors), runs the whole CTest suite (browser tests included),
# then:
# - scripts/container-test.sh builds the Docker image with podman and checks it (run, restart on
#   its volume, checkpoint, graceful stop); KEYVA_SKIP_CONTAINER=1 skips it;
# - scripts/fuzz.sh fuzzes every parser (KEYVA_FUZZ_SECONDS per target, default 30);
#   KEYVA_SKIP_FUZZ=1 skips it;
# - the suite again under AddressSanitizer + UBSan with assertions on (the invariants build:
#   KEYVA_INVARIANTS undoes RelWithDebInfo's NDEBUG), and the unit, threaded and integration tests
#   under ThreadSanitizer; KEYVA_SKIP_SANITIZERS=1 skips them.
# Long campaigns read KEYVA_TEST_SCALE (default 1; raise it for longer runs by hand); the
# sanitizer passes run them at KEYVA_SANITIZER_SCALE (default 0.1), instrumented code being slower.
set -euo pipefail
cd "$(dirname "$0")/.."
# The server and cmd/ use only the engine's public headers (fails fast, before any install/build).
scripts/check-includes.sh
# Every test name reaches CTest whole (a ';' would register a test that runs nothing).
scripts/check-test-names.sh
scripts/install-deps.sh --tests
# Every tracked C++ file is clang-formatted (needs the clang-format install-deps.sh brings).
scripts/check-format.sh
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

jobs=$(nproc)
# Unity builds (CMake batches of eight .cc files per compile): a third of the compile time, most of
# it Beast's and Asio's headers and templates parsed once per batch instead of once per file. The
# container test still builds keyvad file by file, so a file that needs an include it lacks fails
# there.
unity=-DCMAKE_UNITY_BUILD=ON
KEYVA_BUILD_DIR=build scripts/build.sh -DKEYVA_WERROR=ON -DKEYVA_BUILD_BENCH=ON "$unity"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 1800

if [[ ${KEYVA_SKIP_CONTAINER:-0} != 1 ]]; then
  scripts/container-test.sh
fi

# Fuzz every parser for a bounded time (KEYVA_FUZZ_SECONDS per target, default 30).
if [[ ${KEYVA_SKIP_FUZZ:-0} != 1 ]]; then
  scripts/fuzz.sh "${KEYVA_FUZZ_SECONDS:-30}"
fi

if [[ ${KEYVA_SKIP_SANITIZERS:-0} != 1 ]]; then
  export KEYVA_TEST_SCALE=${KEYVA_SANITIZER_SCALE:-0.1}
  # The invariants build: ASan + UBSan with every engine assert compiled in.
  KEYVA_BUILD_DIR=build-asan scripts/build.sh -DKEYVA_WERROR=ON -DKEYVA_SANITIZE=address,undefined \
    -DKEYVA_INVARIANTS=ON "$unity"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 1800 -LE browser

  KEYVA_BUILD_DIR=build-tsan scripts/build.sh -DKEYVA_WERROR=ON -DKEYVA_SANITIZE=thread "$unity"
  # Every unit, threaded and integration test under TSan, except the long single-seed model test
  # (the ASan pass runs it).
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 1800 \
    -L 'unit|threads|integration' -E 'randomized model test'
fi
