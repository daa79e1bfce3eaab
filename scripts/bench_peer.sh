#!/bin/bash
# Runs the side-by-side fan-out of docs/BENCHMARKS.md ("Chaton beside nginx +
# Nchan") at several reader counts and prints one Markdown table of the
# Chaton/Nchan figures, one row per (readers, transport).
#   scripts/bench_peer.sh BUILD_DIR OUTDIR [THREADS] [POSTS] [INTERVAL_MS] [READERS...]
# Defaults: 1 thread (and 1 nginx worker), 20 posts 200 ms apart, 1000 5000
# 10000 readers. Each chaton_bench run's full output is kept in OUTDIR.
# BENCH_ARGS adds options to every chaton_bench run (e.g. "--transport ws",
# or --nginx and --nchan-module where nginx is not Debian's).
set -eu
build=$(realpath "$1"); out=$2
threads=${3:-1}; posts=${4:-20}; interval=${5:-200}
shift $(( $# < 5 ? $# : 5 ))
readers=("$@")
[ ${#readers[@]} -gt 0 ] || readers=(1000 5000 10000)
mkdir -p "$out"
table="$out/table.md"
{
  echo "| readers | transport | CPU per delivery, Chaton / Nchan | of which in the kernel, Chaton / Nchan | latency p50, Chaton / Nchan | latency p99, Chaton / Nchan | RSS per waiting reader, Chaton / Nchan |"
  echo "|---|---|---|---|---|---|---|"
} >"$table"
for n in "${readers[@]}"; do
  f="$out/peer-$n-t$threads.md"
  "$build/chaton_bench" --server "$build/chaton" --peer --only fanout --server-threads "$threads" \
    --clients "$n" --posts "$posts" --interval-ms "$interval" ${BENCH_ARGS:-} >"$f" 2>"$f.err" || true
  # The summary's rows: | Transport | Figure | Chaton | Nchan | ratio |
  awk -F'|' -v n="$n" '
    function trim(s) { gsub(/^ +| +$/, "", s); return s }
    $2 ~ /long-poll|SSE|WebSocket/ && NF == 7 {
      t = trim($2); k = trim($3); v = trim($4) " / " trim($5) " (" trim($6) ")"
      if (k ~ /CPU per delivery/) cpu[t] = v
      else if (k ~ /in the kernel/) kern[t] = v
      else if (k ~ /p50/) p50[t] = v
      else if (k ~ /p99/) p99[t] = v
      else if (k ~ /RSS/) rss[t] = v
      if (!(t in seen)) { seen[t] = 1; order[++m] = t }
    }
    END { for (i = 1; i <= m; i++) { t = order[i]
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", n, t, cpu[t], kern[t], p50[t], p99[t], rss[t] } }' "$f" >>"$table"
done
cat "$table"
