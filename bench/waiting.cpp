// The waits the phases share: every client waiting, every post delivered.
#include <cinttypes>
#include <vector>

#include "phases.h"
#include "proc_stats.h"

namespace chaton::bench {

net::awaitable<uint64_t> await_waiting(Run& run, ClientSet& cs, Nodes& nodes, const std::string& phase) {
  const Options& o = run.options;
  auto start = Steady::now();
  auto last_note = start;
  long last_ticks = cpu_ticks(nodes.measured());
  const long quiet_ticks = static_cast<long>(nodes.servers.size());  // one 10 ms tick per node in 200 ms
  int quiet = 0;
  std::vector<int64_t> last_chatters;  // per node, at the last look
  for (;;) {
    co_await sleep_for(200ms);
    for (auto& s : nodes.servers)
      if (auto how = server_exited(*s)) throw std::runtime_error("the server " + *how + ": " + server_stderr(*s));
    uint64_t waiting = cs.shared.waiting.load();
    uint64_t failed = cs.shared.setup_failed.load() + cs.shared.failed_later.load();
    long ticks = cpu_ticks(nodes.measured());
    bool idle = ticks - last_ticks <= quiet_ticks;
    last_ticks = ticks;
    if (seconds_since(last_note) >= 2) {
      note(fmt("%s: %" PRIu64 " of %d clients waiting, %" PRIu64 " lost", phase.c_str(), waiting, cs.total,
               failed));
      last_note = Steady::now();
    }
    if (waiting + cs.shared.setup_failed.load() >= static_cast<uint64_t>(cs.total)) {
      uint64_t alive = waiting - cs.shared.failed_later.load();
      // A lost reader's cid stays counted until client_timeout expires it;
      // so does the cid of each connection a stream reader has replaced.
      uint64_t most = waiting + (cs.transport == Transport::comet ? 0 : cs.shared.reconnections.load());
      // Every reader held by the nodes together, and num-chatters settled
      // (a change would end every long poll at once: docs/PROTOCOL.md).
      // (Nchan's subscriber count is only the readers.)
      int64_t readers = 0;
      bool settled = true;
      last_chatters.resize(nodes.ctls.size(), -1);  // -1: not read yet
      for (size_t i = 0; i < nodes.ctls.size(); ++i) {
        RoomStatus st = co_await room_status(*nodes.ctls[i], nodes.first().peer);
        readers += st.readers;
        if (nodes.first().peer == Peer::chaton) settled = settled && last_chatters[i] == st.num_chatters;
        last_chatters[i] = st.num_chatters;
      }
      bool counted =
          settled && readers >= static_cast<int64_t>(alive) && readers <= static_cast<int64_t>(most);
      if (counted && idle) {
        if (++quiet >= 2) co_return alive;
      } else {
        quiet = 0;
      }
    }
    if (seconds_since(start) > o.setup_timeout) {
      run.report.notes.push_back(fmt("%s: only %" PRIu64 " of %d clients were waiting after %.0f s; %" PRIu64
                                     " lost (errors: %s)",
                                     phase.c_str(), waiting - cs.shared.failed_later.load(), cs.total,
                                     o.setup_timeout, failed, "see the client errors row"));
      co_return waiting - cs.shared.failed_later.load();
    }
  }
}

net::awaitable<bool> await_deliveries(const Options& o, Shared& sh, uint64_t per_client) {
  auto start = Steady::now();
  for (;;) {
    uint64_t alive = sh.waiting.load() - sh.failed_later.load();
    uint64_t got = sh.deliveries.load() - sh.lost_deliveries.load();
    if (got >= alive * per_client) co_return true;
    if (seconds_since(start) > o.drain) co_return false;
    co_await sleep_for(5ms);
  }
}

}  // namespace chaton::bench
