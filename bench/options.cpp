#include "options.h"

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace chaton::bench {

namespace fs = std::filesystem;

// As the --transport option spells it.
const char* transport_option(Transport t) {
  switch (t) {
    case Transport::comet:
      return "comet";
    case Transport::sse:
      return "sse";
    case Transport::ws:
      return "ws";
  }
  return "?";
}

// As the report names it.
const char* transport_name(Transport t) {
  switch (t) {
    case Transport::comet:
      return "long-poll";
    case Transport::sse:
      return "SSE";
    case Transport::ws:
      return "WebSocket";
  }
  return "?";
}

const char* peer_name(Peer p) { return p == Peer::chaton ? "Chaton" : "Nchan"; }

const char* store_option(Store s) { return s == Store::file ? "file" : "pg"; }
const char* store_name(Store s) { return s == Store::file ? "file store" : "PostgreSQL"; }

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: chaton_bench [options]\n"
               "  --server PATH        chaton binary (default: chaton next to this program)\n"
               "  --transport T        comet, sse, ws or all (all): the readers' transport;\n"
               "                       all runs the fan-out once per transport, each with\n"
               "                       a fresh server, and the throughput phase over comet\n"
               "  --clients N          fan-out: waiting readers (10000)\n"
               "  --posts M            fan-out: posts sent to them (100)\n"
               "  --interval-ms MS     fan-out: pause between posts (50)\n"
               "  --readers R          throughput: waiting readers, 0 for none (1000)\n"
               "  --posters P          throughput: concurrent posters (32)\n"
               "  --seconds T          throughput: length of each run (5)\n"
               "  --max-posts K        throughput: posts per run, 0 = no limit (0)\n"
               "  --deadline S         abort the whole run after S seconds\n"
               "                       (120 per server started: per fan-out run, throughput)\n"
               "  --setup-timeout S    time allowed for clients to start waiting (60)\n"
               "  --drain S            time allowed for deliveries after the last post (15)\n"
               "  --threads N          client worker threads, 1 or 2 (1)\n"
               "  --per-source N       clients per source address 127.0.0.x (5000)\n"
               "  --window N           connections being set up at once, per thread (256)\n"
               "  --server-threads N   the server's [site] threads, 0 = one per core (0);\n"
               "                       with --pin or --peer 1 by default, and with --peer\n"
               "                       also Nchan's workers\n"
               "  --tmp DIR            where the temporary directory goes ($TMPDIR or /tmp)\n"
               "  --keep               keep the temporary directory (data, logs, config)\n"
               "  --no-reconnect       a waiting reader whose connection fails stays lost\n"
               "                       (default: it reconnects at once and resumes from its pos)\n"
               "  --store file|pg      where the servers keep the room (file): pg starts a\n"
               "                       throw-away PostgreSQL cluster in the temporary directory\n"
               "                       (--pg-cluster) with a fresh database per server started\n"
               "  --pg-cluster PATH    the script that starts it (scripts/pg_cluster.sh of the\n"
               "                       source tree)\n"
               "  --nodes N            nodes phase: up to N servers on one database, 1 to 8 (3)\n"
               "  --only fanout|throughput|nodes   run one phase; nodes: long-poll fan-out of\n"
               "                       --posts posts with the file store and with PostgreSQL on\n"
               "                       one node, across two nodes (posts on A, --clients readers\n"
               "                       on B), on 1..N nodes with --clients readers each, then\n"
               "                       the posting throughput with each store; one table of\n"
               "                       ratios\n"
               "  --peer               run each fan-out against Chaton, then against nginx\n"
               "                       with Nchan (same readers), and print the ratios;\n"
               "                       pins as --pin does\n"
               "  --pin                the server (Chaton or nginx) on cores 0..W-1 (W =\n"
               "                       --server-threads, 1 by default) and this program on\n"
               "                       core W, when the machine has more than W cores; for\n"
               "                       the fan-out and the posting phase with the file store\n"
               "  --posters-core N     the posting phase's posters on core N once its\n"
               "                       readers' threads have started (they stay where they\n"
               "                       are): with --pin on two cores, 0 puts the posters\n"
               "                       beside the server instead of behind the readers\n"
               "  --nginx PATH         nginx binary for --peer (/usr/sbin/nginx)\n"
               "  --nchan-module PATH  Nchan module nginx loads (Debian's path; \"\" if built in)\n");
  std::exit(code);
}

int nodes_phase_runs(const Options& o) { return 3 + (o.nodes - 1) + 2; }

int pinned_threads(const Options& o) {
  if (!o.peer && !o.pin) return 0;
  return o.server_threads > 0 ? o.server_threads : 1;
}

int peer_workers(const Options& o) { return o.peer ? pinned_threads(o) : 0; }

Options parse_options(int argc, char** argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], v;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto value = [&]() -> std::string {
      if (has_value) return v;
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "chaton_bench: %s needs a value\n", a.c_str());
        usage(2);
      }
      return args[++i];
    };
    auto number = [&](double lo, double hi) {
      std::string s = value();
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (s.empty() || *end || !(d >= lo && d <= hi)) {
        std::fprintf(stderr, "chaton_bench: %s must be a number from %g to %g (got '%s')\n", a.c_str(), lo,
                     hi, s.c_str());
        usage(2);
      }
      return d;
    };
    if (a == "--help" || a == "-h")
      usage(0);
    else if (a == "--server")
      o.server = value();
    else if (a == "--transport") {
      std::string which = value();
      if (which == "all") {
        o.fanout_transports.assign(kAllTransports.begin(), kAllTransports.end());
        o.reader_transport = Transport::comet;
      } else {
        auto it = std::find_if(kAllTransports.begin(), kAllTransports.end(),
                               [&](Transport t) { return which == transport_option(t); });
        if (it == kAllTransports.end()) {
          std::fprintf(stderr, "chaton_bench: unknown transport '%s'\n", which.c_str());
          usage(2);
        }
        o.fanout_transports = {*it};
        o.reader_transport = *it;
      }
    } else if (a == "--clients")
      o.clients = static_cast<int>(number(1, 250000));
    else if (a == "--posts")
      o.posts = static_cast<int>(number(1, 100000));
    else if (a == "--interval-ms")
      o.interval_ms = static_cast<int>(number(0, 60000));
    else if (a == "--readers")
      o.readers = static_cast<int>(number(0, 250000));
    else if (a == "--posters")
      o.posters = static_cast<int>(number(1, 4096));
    else if (a == "--seconds")
      o.seconds = number(0.1, 3600);
    else if (a == "--max-posts")
      o.max_posts = static_cast<long>(number(0, 1e9));
    else if (a == "--deadline")
      o.deadline = number(1, 86400);
    else if (a == "--setup-timeout")
      o.setup_timeout = number(1, 86400);
    else if (a == "--drain")
      o.drain = number(0.1, 86400);
    else if (a == "--threads")
      o.threads = static_cast<int>(number(1, 2));
    else if (a == "--per-source")
      o.per_source = static_cast<int>(number(1, 28000));
    else if (a == "--window")
      o.window = static_cast<int>(number(1, 100000));
    else if (a == "--server-threads")
      o.server_threads = static_cast<int>(number(0, 1024));
    else if (a == "--tmp")
      o.tmp = value();
    else if (a == "--keep")
      o.keep = true;
    else if (a == "--peer")
      o.peer = true;
    else if (a == "--pin")
      o.pin = true;
    else if (a == "--posters-core")
      o.posters_core = static_cast<int>(number(0, CPU_SETSIZE - 1));
    else if (a == "--nginx")
      o.nginx = value();
    else if (a == "--nchan-module")
      o.nchan_module = value();
    else if (a == "--store") {
      std::string which = value();
      if (which == "file")
        o.store = Store::file;
      else if (which == "pg")
        o.store = Store::pg;
      else {
        std::fprintf(stderr, "chaton_bench: unknown store '%s' (file or pg)\n", which.c_str());
        usage(2);
      }
    } else if (a == "--pg-cluster")
      o.pg_cluster = value();
    else if (a == "--nodes")
      o.nodes = static_cast<int>(number(1, kMaxNodes));
    else if (a == "--no-reconnect")
      o.reconnect = false;
    else if (a == "--only") {
      std::string which = value();
      if (which == "fanout")
        o.throughput = false;
      else if (which == "throughput")
        o.fanout = false;
      else if (which == "nodes") {
        o.fanout = o.throughput = false;
        o.nodes_phase = true;
      } else
        usage(2);
    } else {
      std::fprintf(stderr, "chaton_bench: unknown option %s\n", a.c_str());
      usage(2);
    }
  }
  if ((o.pin || o.peer) && (o.store == Store::pg || o.nodes_phase)) {
    // The cores are one server's: PostgreSQL's processes would run on the
    // load program's core, and several nodes on the same ones.
    std::fprintf(stderr, "chaton_bench: --pin or --peer pins one server; not with %s\n",
                 o.store == Store::pg ? "--store pg" : "the nodes phase");
    usage(2);
  }
  if (o.server.empty()) {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    o.server = (ec ? fs::path(".") : self.parent_path()) / "chaton";
  }
  if (o.deadline == 0)
    o.deadline = kDeadlinePerServer *
                 static_cast<double>((o.fanout ? o.fanout_transports.size() * (o.peer ? 2 : 1) : 0) +
                                     (o.throughput ? 1 : 0) + (o.nodes_phase ? nodes_phase_runs(o) : 0));
  if (o.pg_cluster.empty()) o.pg_cluster = CHATON_BENCH_PG_CLUSTER;
  if (o.tmp.empty()) {
    const char* t = std::getenv("TMPDIR");
    o.tmp = t && *t ? t : "/tmp";
  }
  return o;
}

}  // namespace chaton::bench
