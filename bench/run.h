// Run: the context of one chaton_bench run, handed to every phase: the
// options, the temporary directory (removed at the end unless --keep), the
// pid of the server running now (for the abort paths) and the report.
// Thread-safety: the orchestration thread, except server_pid (atomic), which
// the watchdog thread reads.
// Lifetime: outlives every phase and the watchdog.
#pragma once

#include <sys/types.h>

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
  std::atomic<pid_t> server_pid{0};  // the running server, for the abort paths
  bool peer = false;                 // --peer, and nginx with Nchan is there
  Report report;

  void remove_tmp();
  // Ends the run at once: kills the server, prints what was measured so far.
  [[noreturn]] void abort(const std::string& why);
};

}  // namespace chaton::bench
