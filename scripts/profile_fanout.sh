#!/bin/bash
# Profiles the server during one chaton_bench fan-out (see docs/BENCHMARKS.md,
# "Where a delivery's CPU goes (profile)").
#   scripts/profile_fanout.sh BUILD_DIR TRANSPORT OUTDIR [CLIENTS POSTS INTERVAL_MS]
# TRANSPORT: comet | sse | ws. Runs `chaton_bench --only fanout`, waits until
# it reports every reader waiting, then attaches `perf record` with DWARF call
# graphs to the server the bench started, for the posting phase (4.5 s), and
# writes OUTDIR/{bench.md,bench.err,perf.data,script.txt}. The recording stops
# early when the server exits at the end of the run.
# THREADS (2): the server's threads. PERF (perf): the perf binary.
# PERF_RECORD ("-g --call-graph dwarf,16384 -F 1999"): perf record's options.
# NO_SCRIPT=1: no script.txt (scripts/bench_cores.sh reports perf.data itself).
set -eu
build=$(realpath "$1"); transport=$2; out=$3
clients=${4:-1000}; posts=${5:-20}; interval=${6:-200}
mkdir -p "$out"
"$build/chaton_bench" --server "$build/chaton" --only fanout --transport "$transport" \
  --clients "$clients" --posts "$posts" --interval-ms "$interval" --server-threads "${THREADS:-2}" \
  >"$out/bench.md" 2>"$out/bench.err" &
bench=$!
for _ in $(seq 1 1200); do
  grep -q "readers waiting after" "$out/bench.err" && break
  sleep 0.05
done
server=$(pgrep -P "$bench" | head -1)  # its one child (chaton, or a wrapper that execs it)
seconds=$(awk -v p="$posts" -v i="$interval" 'BEGIN { printf "%.1f", p * i / 1000 + 0.5 }')
${PERF:-perf} record ${PERF_RECORD:--g --call-graph dwarf,16384 -F 1999} -p "$server" -o "$out/perf.data" -- sleep "$seconds" \
  2>"$out/perf.err" || true  # perf ends early, non-zero, when the server exits first
wait "$bench"
[ "${NO_SCRIPT:-0}" = 1 ] ||
  ${PERF:-perf} script --no-inline -i "$out/perf.data" -F comm,tid,period,ip,sym,dso >"$out/script.txt" 2>/dev/null
