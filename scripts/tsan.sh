#!/usr/bin/env bash
# Builds everything with ThreadSanitizer into build-tsan/ and runs the C++
# tests there through CTest; fails when a test fails or the sanitizer reports a data race,
# a lock-order inversion or another thread error (docs/ARCHITECTURE.md,
# "Threads": I/O loops, a commit thread per room, the search, login and
# blocking threads, which these tests run together).
#
#   bash scripts/tsan.sh [CTEST-ARGS...]   # e.g. -R 'CommitQueue' to run fewer
#                                          # (another -E replaces the one below)
#
# The end-to-end and browser tests are not run here (the server under the
# sanitizer is several times slower and larger, which the memory tests
# measure); to run them against its server (build-tsan/chaton) by hand:
#   CHATON_BIN=$PWD/build-tsan/chaton TSAN_OPTIONS=log_path=/tmp/tsan \
#     node --test tests/integration/
set -euo pipefail
cd "$(dirname "$0")/.."

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -Wno-tsan: GCC warns that Asio's atomic_thread_fence is not seen by the
# sanitizer; Asio's handler queues are under its mutexes, which it does see.
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -Wno-tsan" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  "${launcher[@]}" >/dev/null
cmake --build build-tsan -j "$(nproc)"
# halt_on_error: the first report fails its test; second_deadlock_stack:
# both stacks of a lock-order inversion. setarch -R: without address space
# randomization, as GCC 12's sanitizer cannot map its shadow memory where a
# kernel randomizes mmap with more than 28 bits.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  setarch "$(uname -m)" -R \
  ctest --test-dir build-tsan --output-on-failure -j "$(nproc)" --timeout 900 \
  -E '^(integration|browser|packaging)$' "$@"
