#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, docs/FUZZING.md) into build-fuzz/
# with clang++ and runs each for a bounded time through CTest; fails when any
# target finds a crash, a sanitizer error or a failed check.
#
#   bash scripts/fuzz.sh [SECONDS]   # seconds per target; default 20
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: bash scripts/fuzz.sh [SECONDS]" >&2
  exit 2
fi

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCHATON_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCHATON_FUZZ_SECONDS="$seconds" "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j "$(nproc)"
# Each target is one process; they run side by side, one per core.
ctest --test-dir build-fuzz --output-on-failure -j "$(nproc)"
