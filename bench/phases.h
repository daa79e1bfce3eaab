// The phases of a run (see main.cpp): the fan-out over one transport, the
// posting throughput and the nodes phase, each with servers of its own, and
// what they share: starting and stopping a phase's servers (one, or several
// on one PostgreSQL database), the wait for every client to be waiting, and
// the wait for every delivery.
// Thread-safety: the orchestration thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client_set.h"
#include "common.h"
#include "http_conn.h"
#include "options.h"
#include "report.h"
#include "run.h"
#include "server_proc.h"

namespace chaton::bench {

// The servers of a phase: one, or several nodes on one database, each with
// a control connection (status polls, posts). Posts go to the first.
struct Nodes {
  std::vector<std::unique_ptr<ServerProc>> servers;
  std::vector<std::unique_ptr<HttpConn>> ctls;
  Store store = Store::file;
  std::string store_url;  // the database of every node, with Store::pg

  // Every node's processes, whose figures are summed.
  std::vector<pid_t> measured() const;
  ServerProc& first() { return *servers.front(); }
  HttpConn& first_ctl() { return *ctls.front(); }
};

// Starts n servers (n = 1 for nginx) under run.tmp/`name` (name-1, name-2,
// ... when n > 1), one after the other, on a fresh database with Store::pg;
// returns once each listens and answers a status poll.
net::awaitable<void> start_nodes(Run& run, Nodes& nodes, int n, Peer peer, Store store,
                                 const std::string& name, const std::string& phase);
// Closes the control connections and stops every node: how each stopped,
// and their stderr (empty when there was none).
net::awaitable<std::pair<std::string, std::string>> stop_nodes(Nodes& nodes);

// How a fan-out run places its servers and readers.
struct Layout {
  Store store = Store::file;
  int nodes = 1;                 // servers on one database (Store::pg when more than 1)
  bool readers_on_last = false;  // all readers on the last node; else shared out over all
  int readers = 0;               // in all
  std::string label;             // the column's name; empty: the transport's
};

// One fan-out run over one transport against Chaton or its peer (--peer);
// its figures go into a column of the fan-out table. The servers use
// --store; --clients readers.
net::awaitable<void> fanout_phase(Run& run, Transport transport, Peer peer = Peer::chaton);
// The same with the servers and readers of `layout`, into a column of
// `table`: the same code measures the fan-out table and the nodes table.
net::awaitable<void> fanout_run(Run& run, Transport transport, Peer peer, const Layout& layout,
                                std::vector<Column>& table);
// R waiting readers, P posters then 1 poster, with the given store; rows
// of the report. Returns the P posters' acknowledged posts per second.
net::awaitable<double> throughput_phase(Run& run, Store store);
// --only nodes: see Options::nodes_phase; the nodes table and its ratios.
net::awaitable<void> nodes_phase(Run& run);

// Waits until every client of the set waits (or was lost), every node
// counts them (with PostgreSQL, each node's num-chatters includes the other
// nodes' readers), and the servers' CPU has gone quiet (they have handled
// every request sent). Returns the number of waiting clients.
net::awaitable<uint64_t> await_waiting(Run& run, ClientSet& cs, Nodes& nodes, const std::string& phase);
// Waits until every client still connected has `per_client` posts, or the
// drain time is over.
net::awaitable<bool> await_deliveries(const Options& o, Shared& sh, uint64_t per_client);

}  // namespace chaton::bench
