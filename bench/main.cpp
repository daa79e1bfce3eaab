// chaton_bench: a load program for Chaton's reader transports and posting path.
//
// It starts a chaton server of its own (one per phase, each with a fresh data
// directory under a temporary directory and a generated configuration that
// listens on 127.0.0.1 with a port chosen by the system), then:
//
//   1. fan-out    N readers wait on the room; once all wait, M posts are sent
//                 one at a time at a fixed pace and every reader records, for
//                 every post it receives, the time from just before the post
//                 was written to the socket to just after the packet carrying
//                 it was parsed. Each post's text carries its send time
//                 (steady clock, ns), so a reader needs no shared table to
//                 compute it. With --transport all (the default) the phase is
//                 run three times, one fresh server each, with the same N and
//                 M: over the comet long-poll, Server-Sent Events and
//                 WebSocket.
//                 With --peer, each transport's run is followed by one
//                 against nginx with the Nchan module (nchan.h), with the
//                 same readers: a small adapter in each reader speaks
//                 Nchan's variant of the transport (its locations, the
//                 long-poll's Last-Modified/Etag validators, one post per
//                 message), and the report puts Chaton and Nchan side by
//                 side per transport.
//   2. throughput R readers wait (long-poll, or the one transport that
//                 --transport names); P posters post back to back for T
//                 seconds (or K posts), then 1 poster does the same. Every
//                 acknowledgement means the post was fdatasync()ed.
//   3. nodes      (--only nodes) Chaton with its rooms in PostgreSQL: the
//                 long-poll fan-out with the file store and with PostgreSQL on
//                 one node, then across two nodes on one database (posts on
//                 node A, readers on node B), then on 1..--nodes nodes with
//                 --clients readers each; then the posting throughput with
//                 each store. One table, one column per run, and the ratios
//                 (phases.h, nodes.cpp). With --store pg or this phase, the
//                 program starts a throw-away cluster (pg.h).
//
// and prints Markdown tables: the fan-out with one column per transport and
// ratios against the long-poll, then everything else. The server's memory and
// CPU time come from /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (utime +
// stime); the machine's from /proc/stat, so the report also says how much CPU
// other processes took during each measurement.
//
// Readers. All three transports carry the same comet JSON packet
// ({"pos","nc","ver","cid","content":[[nick,[sec,usec],text],...]}), so a
// Reader base class owns everything but the wire: the source address and the
// connection, the packet's interpretation (cid, pos, the posts and their
// latency through Worker::on_post_item), the waiting state, the failure and
// reconnection policy and the counts the tally reads. A transport supplies
// three things: a fresh socket, what to do once it is connected, and the
// reading of packets off it.
//   - CometReader: one keep-alive HTTP/1.1 connection; GET comet?c=&p=&s=0,
//     answered at once with a cid, then re-sent after every reply. It counts
//     as waiting once it has written a request with a cid.
//   - SseReader: GET events?p=POS; the header goes through Beast's
//     http::response_parser, the body through the same parser with a
//     buffer_body (so chunked and close-delimited bodies both work) into
//     SseSplitter, which cuts the byte stream into events by the
//     Server-Sent Events rules. Each event's data is a packet, its id the
//     packet's pos.
//   - WsReader: Beast's websocket::stream client; the upgrade to ws?p=POS,
//     then one packet per text message.
// A stream reader counts as waiting once its first packet (sent at once by
// the server, possibly empty) has arrived. Its cid belongs to the connection.
//
// A waiting reader whose connection fails (the server closed it, say)
// reconnects at once and resumes from its pos (a long-poll keeps its cid too),
// as the browser client does after a pause; such reconnections are counted and
// reported, and with --no-reconnect the reader stays lost and its missing
// posts are counted.
//
// Only loopback addresses are used: the server listens on 127.0.0.1, readers
// connect from 127.0.0.2 and up (bound before connect) so that no single
// source address runs short of ephemeral ports. Each phase's sockets are
// closed before the next phase starts, so one phase's N readers is what counts
// against the open-file limit.
//
// Every run is bounded: a global deadline (--deadline, default 120 s per
// server started, that is per fan-out run and for the throughput phase) stops the run, kills the server and
// removes the temporary directory; a watchdog thread a little later is the
// last resort should the event loop be stuck. The server is started with
// PR_SET_PDEATHSIG so it cannot outlive this process.
//
// Threads: the orchestration (server control, status polls, posters) runs on
// the main thread's io_context; the readers run on --threads worker
// io_contexts (1 by default), each reader staying on one worker, so a
// reader's state needs no lock. Counters the orchestrator watches are
// atomics; everything else is read after the workers are joined.
//
// Long-poll requests are written by hand (they are fixed strings); HTTP
// responses are parsed with Beast's http::response_parser, WebSocket framing
// is Beast's, and packets are parsed with Boost.JSON.
//
// The files, by job: options (the command line); run (the context every
// phase is handed: options, temporary directory, running servers, the
// PostgreSQL cluster, report); pg (the cluster, its databases, its write
// count);
// server_proc (the server process, Chaton or nginx); nchan (the peer's
// nginx.conf and protocol details); http_conn (the control connection:
// status polls and posts); reader (Reader, Worker, Shared) with
// comet_reader, sse_reader (over sse_splitter.h) and ws_reader; client_set
// (a phase's readers); phases.h with fanout, throughput, nodes (a phase's
// servers, and the nodes phase) and waiting;
// proc_stats (figures from /proc); stats (percentiles); report (the
// tables). There is no mutable global: what the abort paths need is in the
// Run.

#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "options.h"
#include "phases.h"
#include "proc_stats.h"
#include "run.h"
#include "server_proc.h"

namespace chaton::bench {
namespace {

net::awaitable<void> run_all(Run& run) {
  const Options& o = run.options;
  if (o.fanout)
    for (Transport t : o.fanout_transports) {
      co_await fanout_phase(run, t);
      if (run.peer) co_await fanout_phase(run, t, Peer::nchan);
    }
  if (o.throughput) co_await throughput_phase(run, o.store);
  if (o.nodes_phase) co_await nodes_phase(run);
}

// The last resort: the event loop did not end the run in time. Kills the
// server and ends the program (status 3) unless stopped first.
class Watchdog {
 public:
  Watchdog(Run& run, std::chrono::seconds limit)
      : thread_([this, &run, limit] {
          std::unique_lock lock(mu_);
          if (cv_.wait_for(lock, limit, [this] { return stopped_; })) return;
          static const char msg[] = "chaton_bench: hard deadline reached, killing the server\n";
          (void)!::write(2, msg, sizeof msg - 1);
          for (auto& p : run.server_pids) {
            pid_t pid = p.load();
            if (pid > 0) ::kill(pid, SIGKILL);
          }
          run.stop_pg();  // a daemon: not ended by PR_SET_PDEATHSIG
          ::_exit(3);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace
}  // namespace chaton::bench

using namespace chaton::bench;

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  if (::access(o.server.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "chaton_bench: no server at %s (use --server)\n", o.server.c_str());
    return 2;
  }

  // Every client holds one descriptor here, so take all the system allows.
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  long need = std::max({o.fanout ? o.clients : 0, o.throughput ? o.readers + o.posters : 0,
                        o.nodes_phase ? o.clients * o.nodes : 0}) +
              64;
  // The nodes phase's readers of several servers are all in this one
  // process: where the hard limit is too low and this program may raise it
  // (root), it does, for itself only; each server keeps the limit it would
  // have had, the one a single server is bound by.
  o.server_open_files = static_cast<long>(rl.rlim_cur);
  if (static_cast<long>(rl.rlim_cur) < need) {
    rlimit more{static_cast<rlim_t>(need), static_cast<rlim_t>(need)};
    if (::setrlimit(RLIMIT_NOFILE, &more) == 0) ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (static_cast<long>(rl.rlim_cur) < need)
    note(fmt("warning: open-file limit %ld is below the %ld descriptors this run needs",
             static_cast<long>(rl.rlim_cur), need));

  std::string tmpl = (fs::path(o.tmp) / "chaton-bench-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    std::fprintf(stderr, "chaton_bench: cannot create a directory under %s: %s\n", o.tmp.c_str(),
                 std::strerror(errno));
    return 2;
  }
  Run run(o);
  run.tmp = buf.data();

  utsname u{};
  ::uname(&u);
  run.report.add("setup", "machine",
                 fmt("%u cores, Linux %s, loopback only", std::thread::hardware_concurrency(), u.release));
  run.report.add("setup", "open-file limit: this process / each server",
                 fmt("%ld / %ld", static_cast<long>(rl.rlim_cur), o.server_open_files));
  run.report.add("setup", "data directory filesystem", fs_type(run.tmp));
  if (o.peer) {
    bool have = ::access(o.nginx.c_str(), X_OK) == 0 &&
                (o.nchan_module.empty() || ::access(o.nchan_module.c_str(), R_OK) == 0);
    run.peer = have;
    run.report.add(
        "setup", "peer (--peer)",
        have ? "nginx " + o.nginx + " with Nchan" + (o.nchan_module.empty() ? "" : " " + o.nchan_module)
             : "none: no " + o.nginx + " or " + o.nchan_module +
                   " (apt-get install nginx libnginx-mod-nchan)");
  }
  if (o.peer || o.pin) run.report.add("setup", "server / load program pinned to", pin_load_program(o));
  run.report.add("setup", "server threads / load-program client threads",
                 fmt("%s / %d",
                     o.peer  ? fmt("%d (Nchan: %d workers)", peer_workers(o), peer_workers(o)).c_str()
                     : o.pin ? std::to_string(pinned_threads(o)).c_str()
                     : o.server_threads ? std::to_string(o.server_threads).c_str()
                                        : "one per core",
                     o.threads));

  // Backstop for a stuck loop, then the ordinary deadline on the loop.
  Watchdog watchdog(run, std::chrono::seconds(static_cast<unsigned>(o.deadline) + 15));

  net::io_context ioc{1};
  net::steady_timer deadline(
      ioc, std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.deadline)));
  deadline.async_wait([&](beast::error_code ec) {
    if (!ec) run.abort(fmt("the deadline of %.0f s was reached", o.deadline));
  });
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code ec, int sig) {
    if (!ec) run.abort(fmt("signal %d", sig));
  });

  int code = 0;
  auto t0 = Steady::now();
  net::co_spawn(ioc, run_all(run), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        run.abort(x.what());
      }
    }
    deadline.cancel();
    signals.cancel();
  });
  ioc.run();
  run.report.add("setup", "whole run", fmt("%.1f s", seconds_since(t0)));
  run.kill_servers();  // normally already stopped
  run.stop_pg();
  run.report.print();
  run.remove_tmp();
  return code;
}
