#!/bin/bash
# Counts the server's system calls during one chaton_bench fan-out (see
# docs/BENCHMARKS.md, "One receive per long-poll round trip").
#   scripts/count_syscalls.sh BUILD_DIR TRANSPORT OUTDIR [CLIENTS] [nchan]
# TRANSPORT: comet | sse | ws. Runs `chaton_bench --only fanout` (20 posts
# at 200 ms, one server thread), waits until it reports every reader
# waiting, then counts the server's socket and epoll calls with `perf stat`
# for the posting phase (4.5 s) into OUTDIR/stat.txt. With "nchan" as the
# fifth argument the run is `--peer`, and the counts are nginx's worker's,
# during Nchan's half of the run. Needs perf (Debian: linux-perf).
# EVENTS: what to count, comma-separated: a system call's name, or a perf
# event with its group (`probe_libc:malloc`, after `perf probe -x
# /lib/x86_64-linux-gnu/libc.so.6 malloc`: the server's allocations).
set -eu
build=$(realpath "$1"); transport=$2; out=$3; clients=${4:-1000}; peer=${5:-}
mkdir -p "$out"
args=(--server "$build/chaton" --only fanout --transport "$transport" --clients "$clients"
  --posts 20 --interval-ms 200 --server-threads 1)
[ "$peer" = nchan ] && args+=(--peer)
"$build/chaton_bench" "${args[@]}" >"$out/bench.md" 2>"$out/bench.err" &
bench=$!
want=1; [ "$peer" = nchan ] && want=2  # Nchan's readers wait after Chaton's run
for _ in $(seq 1 2400); do
  [ "$(grep -c 'readers waiting after' "$out/bench.err")" -ge "$want" ] && break
  sleep 0.05
done
if [ "$peer" = nchan ]; then server=$(pgrep -f "nginx: worker" | head -1); else server=$(pgrep -P "$bench" | head -1); fi
events=${EVENTS:-recvfrom,sendmsg,sendto,writev,readv,read,write,epoll_wait,epoll_ctl,futex}
perf stat -e "$(echo "$events" | tr , '\n' | sed '/:/!s/^/syscalls:sys_enter_/' | paste -sd,)" -p "$server" \
  -o "$out/stat.txt" -- sleep 4.5 2>/dev/null || true
wait "$bench"
grep -E "deliveries received" "$out/bench.md" || true
grep -E "syscalls:|probe" "$out/stat.txt"
