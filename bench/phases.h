// The phases of a run (see main.cpp): the fan-out over one transport and
// the posting throughput, each with a server of its own, and the waits they
// share: for every client to be waiting, and for every delivery.
// Thread-safety: the orchestration thread.
#pragma once

#include <cstdint>
#include <string>

#include "client_set.h"
#include "common.h"
#include "http_conn.h"
#include "options.h"
#include "run.h"
#include "server_proc.h"

namespace chaton::bench {

// One fan-out run over one transport against Chaton or its peer (--peer);
// its figures go into a column of the fan-out table.
net::awaitable<void> fanout_phase(Run& run, Transport transport, Peer peer = Peer::chaton);
// R waiting readers, P posters then 1 poster; rows of the report.
net::awaitable<void> throughput_phase(Run& run);

// Waits until every client of the set waits (or was lost), the room counts
// them, and the server's CPU has gone quiet (it has handled every request
// sent). Returns the number of waiting clients.
net::awaitable<uint64_t> await_waiting(Run& run, ClientSet& cs, HttpConn& ctl, ServerProc& s,
                                       const std::string& phase);
// Waits until every client still connected has `per_client` posts, or the
// drain time is over.
net::awaitable<bool> await_deliveries(const Options& o, Shared& sh, uint64_t per_client);

}  // namespace chaton::bench
