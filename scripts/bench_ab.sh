#!/bin/bash
# Compares server binaries side by side (docs/BENCHMARKS.md): the same
# chaton_bench fan-out, alternating the binaries, ROUNDS times each, so that
# the machine's drift falls on all of them alike. With THREADS 1 the server
# runs on core 0 and the load program on core 1; otherwise neither is pinned.
#   scripts/bench_ab.sh OUTDIR TRANSPORT READERS ROUNDS THREADS BIN...
# TRANSPORT: comet | sse | ws. BENCH (build-bench/chaton_bench): the load
# program. Prints one line per run: RSS per waiting reader, latency p50 /
# p90 / p99 / max, CPU per delivery; each run's full output is kept in OUTDIR.
set -eu
out=$1; t=$2; n=$3; rounds=$4; threads=$5
shift 5
bench=${BENCH:-build-bench/chaton_bench}
mkdir -p "$out"
for i in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    bin=$(realpath "$bin")
    name=$(basename "$bin")
    wrapper="$out/server-$name"
    pin=()
    if [ "$threads" = 1 ]; then
      printf '#!/bin/sh\nexec taskset -c 0 %s "$@"\n' "$bin" >"$wrapper"
      pin=(taskset -c 1)
    else
      printf '#!/bin/sh\nexec %s "$@"\n' "$bin" >"$wrapper"
    fi
    chmod +x "$wrapper"
    f="$out/$t-$n-t$threads-$name-$i.md"
    "${pin[@]}" "$bench" --server "$wrapper" --only fanout --transport "$t" --clients "$n" --posts 20 \
      --interval-ms 200 --server-threads "$threads" >"$f" 2>"$f.err" || true
    echo "$t $n readers, $threads thread(s), $name, round $i: $(grep -E 'server RSS per waiting|latency \(to|server CPU per delivery' "$f" |
      awk -F'|' '{ gsub(/^ +| +$/, "", $3); printf "%s; ", $3 }')"
  done
done
