#!/usr/bin/env bash
# Fails when a Catch2 test name holds a ';'. CTest reads test names as CMake lists, so
# catch_discover_tests cuts such a name at the ';' and the test it registers matches no test
# case: it "passes" without running.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(git ls-files 'tests/*.cc' | xargs grep -n 'TEST_CASE("[^"]*;' || true)
if [[ -n $bad ]]; then
  echo "test names must not contain ';' (CTest would run nothing for them):" >&2
  echo "$bad" >&2
  exit 1
fi
