#!/usr/bin/env bash
# Builds everything with a sanitizer into a build directory of its own and
# runs the C++ tests there through CTest; fails when a test fails or the
# sanitizer reports an error (docs/ARCHITECTURE.md, "Threads"):
#   thread   ThreadSanitizer, in build-tsan/: a data race, a lock-order
#            inversion or another thread error, between the I/O loops, a
#            room's commit thread, the search, login and blocking threads;
#   address  AddressSanitizer with UndefinedBehaviorSanitizer, in build-asan/:
#            a use after free, an overflow, undefined behaviour, and memory
#            still allocated when a test's process exits (LeakSanitizer).
#
#   bash scripts/sanitize.sh thread|address [CTEST-ARGS...]
#       e.g. bash scripts/sanitize.sh thread -R 'CommitQueue' to run fewer
#       (another -E replaces the one below)
#
# The end-to-end and browser tests are not run here (the server under a
# sanitizer is several times slower and larger, which the memory tests
# measure); to run them against its server by hand, the reports in files:
#   CHATON_BIN=$PWD/build-asan/chaton ASAN_OPTIONS=log_path=/tmp/asan \
#     node --test tests/integration/
# (build-tsan/chaton and TSAN_OPTIONS for the other).
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-}"
shift || true
run=()
case "$kind" in
  thread)
    dir=build-tsan
    # -Wno-tsan: GCC warns that Asio's atomic_thread_fence is not seen by
    # the sanitizer; Asio's handler queues are under its mutexes, which it
    # does see.
    flags="-fsanitize=thread -Wno-tsan"
    link_flags="-fsanitize=thread"
    # halt_on_error: the first report fails its test; second_deadlock_stack:
    # both stacks of a lock-order inversion.
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
    # Without address space randomization: GCC 12's ThreadSanitizer cannot
    # map its shadow memory where a kernel randomizes mmap with more than
    # 28 bits.
    run=(setarch "$(uname -m)" -R)
    ;;
  address)
    dir=build-asan
    # -fno-sanitize-recover: undefined behaviour stops the test, as an
    # AddressSanitizer report does, instead of printing and going on.
    flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    link_flags="-fsanitize=address,undefined"
    export ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="print_stacktrace=1 ${UBSAN_OPTIONS:-}"
    ;;
  *)
    echo "usage: bash scripts/sanitize.sh thread|address [CTEST-ARGS...]" >&2
    exit 2
    ;;
esac

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -O1 -g1: less optimization and line tables only, enough for a report's
# stacks; with -O2 -g the address build takes about twice as long.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$link_flags" \
  "${launcher[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
"${run[@]}" ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 900 \
  -E '^(integration|browser|packaging)$' "$@"
