#!/usr/bin/env bash
# Runs clang-tidy (checks in .clang-tidy) over the engine's and the programs' sources and fails on
# any finding. Needs a configured build dir for its compile_commands.json (every keyva build dir
# has one): scripts/check-tidy.sh [BUILD_DIR] (default build). Slow (minutes on two cores), so it
# is a by-hand check, not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
clang_tidy=${CLANG_TIDY:-clang-tidy}
if ! command -v "$clang_tidy" >/dev/null; then
  echo "check-tidy: $clang_tidy not found (scripts/install-deps.sh --tidy installs it)"
  exit 1
fi
if [[ ! -f $build_dir/compile_commands.json ]]; then
  echo "check-tidy: no $build_dir/compile_commands.json (configure first: scripts/build.sh)"
  exit 1
fi
mapfile -t files < <(git ls-files -- 'internal/engine/*.cc' 'cmd/*.cc')
# The build's flags are GCC's; clang does not know some of its warning options.
if ! report=$(printf '%s\n' "${files[@]}" |
              xargs -P "$(nproc)" -n 1 "$clang_tidy" -p "$build_dir" --quiet \
                --extra-arg=-Wno-unknown-warning-option 2>&1); then
  echo "check-tidy: clang-tidy findings:"
  grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' <<<"$report" || true
  exit 1
fi
