// The chaton server a phase runs against: a child process with a
// generated configuration (127.0.0.1, a port the system picks, a fresh data
// directory, timeouts and limits far beyond a run), its start, its stderr
// and its stop. With --peer, the same for nginx with Nchan (nchan.h): one
// master and as many workers as Chaton has threads, whose figures are the
// sum of the workers'. With --pin or --peer, the server is pinned (server_cores()). The server is started
// with PR_SET_PDEATHSIG, so it cannot outlive this process. Thread-safety: the orchestration thread, except
// that `running` may be read from anywhere (the abort paths kill what it names). Lifetime: `running`, when
// set, must outlive the ServerProc.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "options.h"

namespace chaton::bench {

struct ServerProc {
  Peer peer = Peer::chaton;
  pid_t pid = -1;
  int nginx_workers = 1;       // how many nginx starts
  std::vector<pid_t> workers;  // nginx's workers, once listening
  // The processes whose memory, CPU and descriptors are measured (summed).
  std::vector<pid_t> measured() const { return workers.empty() ? std::vector<pid_t>{pid} : workers; }
  fs::path dir;
  std::string store_url;  // [store] url: a PostgreSQL database; empty: the file store
  uint16_t port = 0;
  std::string listening_line;
  std::atomic<pid_t>* running = nullptr;  // set to the pid while the server runs, 0 after
  tcp::endpoint endpoint() const { return {net::ip::make_address_v4("127.0.0.1"), port}; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port); }
};

// Writes s.dir/chaton.toml (with s.store_url as its [store] url, if any)
// and starts `chaton serve` on it, its stdout and stderr going to files in
// s.dir, with o.server_open_files as its open-file limit. Throws
// std::runtime_error on failure.
void spawn_server(const Options& o, ServerProc& s);
// Writes s.dir/nginx.conf (nchan.h) on a port picked now and starts nginx
// on it in the foreground. Throws std::runtime_error on failure.
void spawn_nginx(const Options& o, ServerProc& s);
// With --pin or --peer, the server (Chaton or nginx) runs on cores 0..W-1, W
// being pinned_threads(), and the load program on core W, when the machine has
// more than W cores; otherwise neither is pinned. server_cores() is W, or 0
// when not pinning. pin_load_program() pins the calling thread (and the
// threads it starts later) and says what it did.
int server_cores(const Options& o);
std::string pin_load_program(const Options& o);
// --posters-core: pins the calling thread (the posters') to that core and
// says where it is now; threads started before stay where they were.
std::string pin_posters(const Options& o);

// Has the server exited? Then reap it and say how.
std::optional<std::string> server_exited(ServerProc& s);
// The server's stderr, identical lines counted: "3 x chaton: ... / ...".
std::string server_stderr(const ServerProc& s, size_t max_kinds = 6);
// Waits for "chaton ... listening on http://127.0.0.1:PORT/ ..." on stdout;
// for nginx, for its port to accept and its worker to be there.
net::awaitable<void> await_listening(ServerProc& s);
// SIGTERM, then up to 10 s for it to end, then SIGKILL.
net::awaitable<std::string> stop_server(ServerProc& s);

// SIGKILL to the process `running` names, if any, and to its children
// (nginx's worker), then reaps it.
void kill_server_now(std::atomic<pid_t>& running);

}  // namespace chaton::bench
