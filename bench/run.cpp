#include "run.h"

#include <unistd.h>

#include <cstdio>
#include <system_error>

#include "server_proc.h"

namespace chaton::bench {

void Run::remove_tmp() {
  if (!tmp.empty() && !keep) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }
}

void Run::abort(const std::string& why) {
  note("aborting: " + why);
  kill_server_now(server_pid);
  report.notes.push_back("RUN ABORTED: " + why);
  report.print();
  remove_tmp();
  std::fflush(nullptr);
  ::_exit(2);
}

}  // namespace chaton::bench
