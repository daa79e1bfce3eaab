#!/bin/bash
# The many-core runs of docs/BENCHMARKS.md ("Many cores"): for each server
# thread count W, each transport's fan-out against Chaton and nginx + Nchan
# (scripts/bench_peer.sh), then, with PERF set, a profile of Chaton alone at
# each W (perf record of the server for the posting phase; flat and
# inclusive reports).
#   scripts/bench_cores.sh BUILD_DIR OUTDIR READERS POSTS INTERVAL_MS "W..." "TRANSPORT..."
# e.g. scripts/bench_cores.sh build-bench /tmp/cores 18000 20 500 "1 8" "comet ws"
# BENCH_ARGS goes to every chaton_bench run (--nginx, --nchan-module);
# PERF names the perf binary; BUDGET_S stops starting runs after that many
# seconds (the rest are listed as skipped). OUTDIR gets tables.md (one table
# row per run), full.md (every run's whole output) and prof-W-T.txt.
set -u
build=$(realpath "$1"); out=$2; readers=$3; posts=$4; interval=$5
threads=($6); transports=($7)
budget=${BUDGET_S:-100000}
work=$(mktemp -d); mkdir -p "$out"
{ date -u; echo "cores: $(nproc)"; uname -sr; grep -m1 'model name' /proc/cpuinfo; echo "open files: $(ulimit -n)"; } >"$work/0-machine.txt"
cat "$work/0-machine.txt"
for w in "${threads[@]}"; do
  for t in "${transports[@]}"; do
    [ $SECONDS -lt "$budget" ] || { echo "== W=$w $t: skipped at ${SECONDS}s"; continue; }
    BENCH_ARGS="--transport $t ${BENCH_ARGS:-}" "$(dirname "$0")/bench_peer.sh" "$build" "$work/w$w-$t" "$w" \
      "$posts" "$interval" "$readers" >/dev/null 2>&1
    echo "== W=$w $t (at ${SECONDS}s)"; tail -n +3 "$work/w$w-$t/table.md"
  done
done | tee "$out/tables.md"
if [ -n "${PERF:-}" ]; then
  for w in "${threads[@]}"; do
    for t in "${transports[@]}"; do
      [ $SECONDS -lt "$budget" ] || { echo "== profile W=$w $t: skipped at ${SECONDS}s"; continue; }
      p="$work/prof-w$w-$t"; mkdir -p "$p"
      THREADS=$w PERF=$PERF PERF_RECORD="-e cpu-clock -F 1999 -g" NO_SCRIPT=1 \
        "$(dirname "$0")/profile_fanout.sh" "$build" "$t" "$p" "$readers" "$posts" "$interval" >/dev/null 2>&1
      {
        echo "# W=$w $t: $(grep -m1 'server CPU per delivery' "$p/bench.md")"
        "$PERF" report -i "$p/perf.data" --stdio --no-children --sort sym -g none --percent-limit 0.4 2>/dev/null | grep -v '^$' | cut -c1-200
        echo "# inclusive"
        "$PERF" report -i "$p/perf.data" --stdio --children --sort sym -g none --percent-limit 4 2>/dev/null | grep -v '^$' | cut -c1-200
      } >"$out/prof-w$w-$t.txt"
      echo "== profile W=$w $t (at ${SECONDS}s)"
    done
  done
fi
(cd "$work" && for f in 0-machine.txt */peer-*.md */peer-*.md.err prof-*/bench.md; do
  [ -f "$f" ] && { echo "=== $f"; cat "$f"; }; done) >"$out/full.md"
rm -rf "$work"
