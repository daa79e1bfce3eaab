// The chaton server a phase runs against: a child process with a
// generated configuration (127.0.0.1, a port the system picks, a fresh data
// directory, timeouts and limits far beyond a run), its start, its stderr
// and its stop. The server is started with PR_SET_PDEATHSIG, so it cannot
// outlive this process.
// Thread-safety: the orchestration thread, except that `running` may be
// read from anywhere (the abort paths kill what it names).
// Lifetime: `running`, when set, must outlive the ServerProc.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "common.h"
#include "options.h"

namespace chaton::bench {

struct ServerProc {
  pid_t pid = -1;
  fs::path dir;
  uint16_t port = 0;
  std::string listening_line;
  std::atomic<pid_t>* running = nullptr;  // set to the pid while the server runs, 0 after
  tcp::endpoint endpoint() const { return {net::ip::make_address_v4("127.0.0.1"), port}; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port); }
};

// Writes s.dir/chaton.toml and starts `chaton serve` on it, its stdout and
// stderr going to files in s.dir. Throws std::runtime_error on failure.
void spawn_server(const Options& o, ServerProc& s);
// Has the server exited? Then reap it and say how.
std::optional<std::string> server_exited(ServerProc& s);
// The server's stderr, identical lines counted: "3 x chaton: ... / ...".
std::string server_stderr(const ServerProc& s, size_t max_kinds = 6);
// Waits for "chaton ... listening on http://127.0.0.1:PORT/ ..." on stdout.
net::awaitable<void> await_listening(ServerProc& s);
// SIGTERM, then up to 10 s for it to end, then SIGKILL.
net::awaitable<std::string> stop_server(ServerProc& s);

// SIGKILL to the process `running` names, if any, then reaps it.
void kill_server_now(std::atomic<pid_t>& running);

}  // namespace chaton::bench
