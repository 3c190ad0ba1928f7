#!/usr/bin/env bash
# Sets everything up and runs keyvad on ./data, port 8080 (flags pass through: scripts/run.sh --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
KEYVA_BUILD_DIR=build scripts/build.sh
exec build/cmd/keyvad/keyvad "$@"
