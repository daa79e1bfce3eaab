// ClientSet: a phase's readers, spread over worker threads and source
// addresses (127.0.0.2 and up, --per-source readers each), and over the
// servers of the phase when it has several, and the figures
// merged from its workers once they have stopped.
// Thread-safety: the orchestration thread; the workers run their readers.
// Lifetime: none beyond the object (its destructor stops the workers).
#pragma once

#include <cinttypes>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.h"
#include "options.h"
#include "reader.h"
#include "server_proc.h"

namespace chaton::bench {

// A phase's readers, spread over worker threads and source addresses.
struct ClientSet {
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  int total = 0;
  Transport transport;

  ClientSet(const Options& o, const ServerProc& s, Transport t, int n, int matrix_posts)
      : ClientSet(o, std::vector<const ServerProc*>{&s}, t, n, matrix_posts) {}
  // The readers shared out over several servers in consecutive blocks
  // (Shared::node_of), n / servers.size() each.
  ClientSet(const Options& o, const std::vector<const ServerProc*>& servers, Transport t, int n,
            int matrix_posts)
      : total(n), transport(t) {
    for (const ServerProc* s : servers) {
      shared.servers.push_back(s->endpoint());
      shared.hosts.push_back(s->host());
    }
    shared.readers = static_cast<uint32_t>(n);
    shared.peer = servers.at(0)->peer;
    shared.matrix_posts = matrix_posts;
    if (matrix_posts > 0) shared.seen.assign(static_cast<size_t>(n) * matrix_posts, 0);
    int sources = (n + o.per_source - 1) / o.per_source;
    if (sources > 253) throw std::runtime_error("too many clients for 127.0.0.2..127.0.0.254");
    for (int t = 0; t < o.threads; ++t) {
      workers.push_back(std::make_unique<Worker>(shared, o.window));
      workers.back()->max_reconnects = o.reconnect ? kMaxReconnects : 0;
    }
    for (int i = 0; i < n; ++i) {
      auto src = net::ip::address_v4(0x7F000002u + static_cast<uint32_t>(i / o.per_source));
      Worker& w = *workers[static_cast<size_t>(i) % workers.size()];
      w.readers.push_back(make_reader(t, w, static_cast<uint32_t>(i), src));
    }
  }
  int sources(const Options& o) const { return (total + o.per_source - 1) / o.per_source; }
  void start() {
    for (auto& w : workers) {
      w->run_thread();
      w->begin();
    }
  }
  void stop() {
    shared.stopping = true;
    for (auto& w : workers) w->stop();
  }
  ~ClientSet() {
    if (!shared.stopping) stop();
  }

  // After stop(): merged figures.
  std::vector<uint32_t> latencies() const {
    std::vector<uint32_t> all;
    for (auto& w : workers) all.insert(all.end(), w->latencies_us.begin(), w->latencies_us.end());
    return all;
  }
  Tally tally(uint64_t per_client) const {
    Tally t;
    for (auto& w : workers)
      for (auto& p : w->readers) {
        if (!p->waited()) continue;
        if (p->lost()) {
          ++t.lost;
          t.missing_lost += per_client > p->received() ? per_client - p->received() : 0;
        } else {
          ++t.alive;
          if (p->received() < per_client)
            t.missing_alive += per_client - p->received();
          else
            t.extra_alive += p->received() - per_client;
        }
      }
    return t;
  }
  template <class F>
  uint64_t sum(F f) const {
    uint64_t n = 0;
    for (auto& w : workers) n += f(*w);
    return n;
  }
  std::string errors() const {
    std::map<std::string, uint64_t> all;
    for (auto& w : workers)
      for (auto& [k, v] : w->errors) all[k] += v;
    std::string out;
    for (auto& [k, v] : all) out += (out.empty() ? "" : "; ") + fmt("%" PRIu64 " x %s", v, k.c_str());
    return out.empty() ? "none" : out;
  }
};

}  // namespace chaton::bench
