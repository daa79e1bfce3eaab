// The command line of chaton_bench: which phases run, over which
// transports, with how many clients and posts, and within what bounds.
// parse_options() prints the usage and exits on a bad option.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace chaton::bench {

// How a reader waits for posts (docs/PROTOCOL.md).
enum class Transport { comet, sse, ws };
constexpr std::array kAllTransports{Transport::comet, Transport::sse, Transport::ws};

// As the --transport option spells it.
const char* transport_option(Transport t);
// As the report names it.
const char* transport_name(Transport t);

// The server a run measures: Chaton, or its peer, nginx with Nchan (nchan.h).
enum class Peer { chaton, nchan };
const char* peer_name(Peer p);

// Where the server keeps its rooms: in files (its data directory), or in
// PostgreSQL (a throw-away cluster the run starts, see Run::pg_database).
enum class Store { file, pg };
// As the --store option spells it.
const char* store_option(Store s);
// As the report names it.
const char* store_name(Store s);

constexpr int kMaxNodes = 8;  // chaton servers on one database in the nodes phase

constexpr double kDeadlinePerServer = 120;  // default --deadline, per server started (s)

struct Options {
  std::string server;         // path of the chaton binary
  int clients = 10000;        // N, fan-out clients
  int posts = 100;            // M, fan-out posts
  int interval_ms = 50;       // pace of the fan-out posts
  int readers = 1000;         // R, readers during the throughput phase
  int posters = 32;           // P, concurrent posters
  double seconds = 5;         // T, length of each throughput run
  long max_posts = 0;         // K, posts per throughput run (0: no limit)
  double deadline = 0;        // whole run (0: kDeadlinePerServer per server started)
  double setup_timeout = 60;  // for all clients of a phase to be waiting
  double drain = 15;          // for deliveries after the last post
  int threads = 1;            // client worker threads
  int per_source = 5000;      // clients per source address 127.0.0.x
  int window = 256;           // connections being set up at once, per worker
  int server_threads = 0;     // [site] threads (0: one per core; pinned, 1)
  std::string tmp;            // base of the temporary directory
  bool keep = false;          // keep the temporary directory
  bool reconnect = true;      // a client whose connection fails reconnects
  bool fanout = true;
  bool throughput = true;
  // --only nodes: the fan-out with the file store, the PostgreSQL store on
  // one node and across two (posts on A, readers on B), then 1..nodes
  // servers on one database with --clients readers each, and the posting
  // throughput with each store; one table of ratios (phases.h).
  bool nodes_phase = false;
  int nodes = 3;               // the most servers on one database
  Store store = Store::file;   // the store of the fan-out and throughput phases
  std::string pg_cluster;      // scripts/pg_cluster.sh, which starts the cluster
  long server_open_files = 0;  // set by main(): each server's open-file limit (0: inherited)
  // The fan-out is run once per transport listed; the throughput phase's
  // readers use long-poll unless --transport names a single transport.
  std::vector<Transport> fanout_transports{kAllTransports.begin(), kAllTransports.end()};
  Transport reader_transport = Transport::comet;
  // --peer: each fan-out is run against Chaton, then against nginx + Nchan.
  bool peer = false;
  // --pin (and --peer): the server on cores of its own (server_proc.h).
  bool pin = false;
  // --posters-core N: the posting phase's posters (this program's main
  // thread) on core N once its readers' threads have started, which stay
  // where they were (-1: not moved). With --pin on two cores, 0 puts the
  // posters beside the server instead of behind the readers on core 1.
  int posters_core = -1;
  std::string nginx = "/usr/sbin/nginx";
  std::string nchan_module = "/usr/lib/nginx/modules/ngx_nchan_module.so";
};

Options parse_options(int argc, char** argv);

// The server's threads in a pinned run (--pin or --peer): --server-threads,
// or 1. 0 when not pinned (Chaton's own default).
int pinned_threads(const Options& o);
// Nchan's worker processes in a --peer run: pinned_threads(); 0 without --peer.
int peer_workers(const Options& o);

// The runs of the nodes phase, each with servers of its own: three
// fan-outs (file store, PostgreSQL on one node, across two), one per node
// count from 2 to --nodes, and two throughput runs.
int nodes_phase_runs(const Options& o);

}  // namespace chaton::bench
