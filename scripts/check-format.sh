#!/usr/bin/env bash
# Fails when a tracked C++ file under cmd/ internal/ tests/ bench/ fuzz/ is not formatted as
# .clang-format says, listing those files. Fix them with `clang-format -i FILE...`.
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null; then
  echo "check-format: $clang_format not found (scripts/install-deps.sh installs it)"
  exit 1
fi
dirs=(cmd internal tests bench fuzz)
mapfile -t files < <(git ls-files -- "${dirs[@]/%//*.cc}" "${dirs[@]/%//*.h}")
# One clang-format for all files; each violation is reported as "FILE:LINE:COL: error: ...".
if ! report=$("$clang_format" --dry-run -Werror "${files[@]}" 2>&1); then
  echo "check-format: not clang-formatted (run: $clang_format -i FILE...):"
  grep -oE '^[^:]+:[0-9]+:[0-9]+: error' <<<"$report" | cut -d: -f1 | sort -u | sed 's/^/  /' ||
    printf '%s\n' "$report"
  exit 1
fi
