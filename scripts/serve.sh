#!/usr/bin/env bash
# Set up, build, and serve the default room on http://127.0.0.1:8080/lobby/
# (extra arguments go to `chaton serve`, e.g. --config chaton.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec ./build/chaton serve "$@"
