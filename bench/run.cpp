#include "run.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "server_proc.h"

namespace chaton::bench {

void Run::kill_servers() {
  for (auto& pid : server_pids) kill_server_now(pid);
}

void Run::stop_pg() {
  if (pg_dir.empty()) return;
  std::string cmd = "'" + options.pg_cluster + "' stop '" + pg_dir.string() + "' --remove >/dev/null";
  if (std::system(cmd.c_str()) != 0) note("could not stop the PostgreSQL cluster in " + pg_dir.string());
  pg_dir.clear();
}

void Run::remove_tmp() {
  if (!tmp.empty() && !keep) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }
}

void Run::abort(const std::string& why) {
  note("aborting: " + why);
  kill_servers();
  stop_pg();
  report.notes.push_back("RUN ABORTED: " + why);
  report.print();
  remove_tmp();
  std::fflush(nullptr);
  ::_exit(2);
}

}  // namespace chaton::bench
