// The PostgreSQL side of a run (--store pg, the nodes phase): a throw-away
// cluster started with scripts/pg_cluster.sh in the temporary directory on
// first use (Run::stop_pg() stops it), a fresh database per run of servers,
// and the one figure read from the database itself: how many transactions
// that wrote something were committed, by every node together.
// Thread-safety: the orchestration thread (these block it while they run).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "run.h"

namespace chaton::bench {

// The URL of a fresh, empty database (chaton_bench_<n>) in the run's
// cluster, which is started first if need be. Throws std::runtime_error.
std::string pg_database(Run& run);

// The next transaction id the database will assign
// (txid_snapshot_xmax(txid_current_snapshot())): between two readings, the
// number of transactions that wrote (only those get an id), on every node.
// Nothing when psql fails.
std::optional<int64_t> pg_next_xid(const Run& run, const std::string& url);

}  // namespace chaton::bench
