#!/usr/bin/env bash
# Installs only what serving needs, builds only the server, and serves the
# default room on http://127.0.0.1:8080/lobby/ (extra arguments go to
# `chaton serve`, e.g. --config chaton.toml). No test tool is installed or built.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh serve
exec ./build/chaton serve "$@"
