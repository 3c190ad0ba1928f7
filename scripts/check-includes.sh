#!/usr/bin/env bash
# Fails when the server (internal/server/) or a program (cmd/) includes an engine header outside
# its public surface: the headers at the top of internal/engine/ (docs/engine.md, "Public surface").
set -euo pipefail
cd "$(dirname "$0")/.."
public='db|env|iterator|options|status|value_format|verify|write_batch'
if bad=$(grep -rnE '#include "internal/engine/' internal/server cmd |
         grep -vE "#include \"internal/engine/($public)\.h\""); then
  echo "check-includes: engine internals included outside the engine (use the public headers):"
  echo "$bad"
  exit 1
fi
