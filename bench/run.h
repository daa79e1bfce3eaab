// Run: the context of one chaton_bench run, handed to every phase: the
// options, the temporary directory (removed at the end unless --keep), the
// pids of the servers running now (for the abort paths), the PostgreSQL
// cluster of --store pg and the nodes phase (started on first use, stopped
// at the end and on every abort path) and the report.
// Thread-safety: the orchestration thread, except server_pids (atomics),
// which the watchdog thread reads.
// Lifetime: outlives every phase and the watchdog.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <string>

#include "common.h"
#include "options.h"
#include "report.h"

namespace chaton::bench {

struct Run {
  explicit Run(const Options& o) : options(o), keep(o.keep) {}
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  const Options& options;
  fs::path tmp;                      // the temporary directory, removed at the end
  bool keep = false;                 // --keep: leave it
  // The running servers (a phase's nodes), for the abort paths.
  std::array<std::atomic<pid_t>, kMaxNodes> server_pids{};
  bool peer = false;  // --peer, and nginx with Nchan is there
  fs::path pg_dir;    // the cluster's folder (pg_cluster.sh), once started
  std::string psql;   // its psql
  int pg_databases = 0;
  Report report;

  // SIGKILL to every running server (kill_server_now).
  void kill_servers();
  // Stops the PostgreSQL cluster, if one was started, and removes it.
  void stop_pg();
  void remove_tmp();
  // Ends the run at once: kills the server, prints what was measured so far.
  [[noreturn]] void abort(const std::string& why);
};

}  // namespace chaton::bench
