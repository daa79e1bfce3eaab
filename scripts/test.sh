#!/usr/bin/env bash
# Installs what serving and the tests need, builds everything, and runs the
# whole test suite: the C++ unit tests and the
# end-to-end tests against the real binary, all through CTest, then the fuzz
# targets (scripts/fuzz.sh), then the C++ tests under ThreadSanitizer and
# under Address- and UndefinedBehaviorSanitizer (scripts/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 900
# Then every fuzz target for a bounded time (docs/FUZZING.md).
bash scripts/fuzz.sh
# Then the C++ tests again under the sanitizers (docs/ARCHITECTURE.md, "Threads").
bash scripts/sanitize.sh thread
bash scripts/sanitize.sh address
