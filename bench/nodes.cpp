// A phase's servers (Nodes), and the nodes phase: Chaton with its rooms in
// PostgreSQL, one node and several on one database, against the file
// store, as ratios in one run.
#include <cinttypes>
#include <map>
#include <optional>

#include "pg.h"
#include "phases.h"
#include "proc_stats.h"

namespace chaton::bench {

std::vector<pid_t> Nodes::measured() const {
  std::vector<pid_t> all;
  for (const auto& s : servers) {
    auto m = s->measured();
    all.insert(all.end(), m.begin(), m.end());
  }
  return all;
}

net::awaitable<void> start_nodes(Run& run, Nodes& nodes, int n, Peer peer, Store store,
                                 const std::string& name, const std::string& phase) {
  if (n < 1 || n > kMaxNodes) throw std::runtime_error("bad node count");
  nodes.store = store;
  if (peer == Peer::chaton && store == Store::pg) nodes.store_url = pg_database(run);
  auto ex = co_await net::this_coro::executor;
  for (int i = 0; i < n; ++i) {
    auto s = std::make_unique<ServerProc>();
    s->peer = peer;
    s->dir = run.tmp / (n == 1 ? name : fmt("%s-%d", name.c_str(), i + 1));
    s->store_url = nodes.store_url;
    s->running = &run.server_pids[static_cast<size_t>(i)];
    if (peer == Peer::nchan)
      spawn_nginx(run.options, *s);
    else
      spawn_server(run.options, *s);
    nodes.servers.push_back(std::move(s));
    ServerProc& sp = *nodes.servers.back();
    co_await await_listening(sp);
    note(phase + ": " + sp.listening_line);
    nodes.ctls.push_back(std::make_unique<HttpConn>(ex, sp.endpoint(), sp.host()));
    co_await room_status(*nodes.ctls.back(), peer);
  }
}

net::awaitable<std::pair<std::string, std::string>> stop_nodes(Nodes& nodes) {
  for (auto& c : nodes.ctls) c->close();
  std::string how, err;
  const bool several = nodes.servers.size() > 1;
  for (size_t i = 0; i < nodes.servers.size(); ++i) {
    std::string prefix = several ? fmt("node %zu: ", i + 1) : std::string();
    std::string stopped = co_await stop_server(*nodes.servers[i]);
    how += (i ? "; " : "") + prefix + stopped;
    std::string e = server_stderr(*nodes.servers[i]);
    if (!e.empty()) err += (err.empty() ? "" : "; ") + prefix + e;
  }
  co_return std::pair{how, err};
}

namespace {

// A figure of a column of the nodes table, if it was measured.
std::optional<double> number(const std::vector<Column>& table, const std::string& label, Measure m) {
  for (const auto& c : table)
    if (c.label == label) {
      auto it = c.numbers.find(m);
      if (it != c.numbers.end()) return it->second;
    }
  return std::nullopt;
}

std::string ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return "-";
  return fmt("%.2f×", *a / *b);
}

}  // namespace

net::awaitable<void> nodes_phase(Run& run) {
  const Options& o = run.options;
  auto& table = run.report.nodes;
  const std::string file1 = "file store, 1 node";
  const std::string pg1 = "PostgreSQL, 1 node";
  const std::string cross = "PostgreSQL, posts on A, readers on B";
  auto spread = [](int k) { return fmt("PostgreSQL, %d nodes, readers on each", k); };

  // Post -> delivery latency: one node (each store), then across two; then
  // the readers held: --clients on each of 1..N nodes (1 is pg1). (Named
  // layouts: GCC 12 destroys a temporary in a co_await expression twice.)
  std::vector<Layout> layouts{{Store::file, 1, false, o.clients, file1},
                              {Store::pg, 1, false, o.clients, pg1},
                              {Store::pg, 2, true, o.clients, cross}};
  for (int k = 2; k <= o.nodes; ++k) layouts.push_back({Store::pg, k, false, o.clients * k, spread(k)});
  for (const Layout& layout : layouts) co_await fanout_run(run, Transport::comet, Peer::chaton, layout, table);
  // Acknowledged posts per second, P posters, each store.
  double file_rate = co_await throughput_phase(run, Store::file);
  double pg_rate = co_await throughput_phase(run, Store::pg);

  auto& r = run.report.nodes_ratios;
  auto lat = [&](const std::string& a, const std::string& b) {
    return ratio(number(table, a, Measure::latency_p50), number(table, b, Measure::latency_p50)) + " / " +
           ratio(number(table, a, Measure::latency_p99), number(table, b, Measure::latency_p99));
  };
  r.push_back({"", "delivery latency p50 / p99: posts on A, readers on B, against one PostgreSQL node",
               lat(cross, pg1)});
  r.push_back({"", "delivery latency p50 / p99: posts on A, readers on B, against one file-store node",
               lat(cross, file1)});
  r.push_back({"", "delivery latency p50 / p99: one PostgreSQL node, against one file-store node",
               lat(pg1, file1)});
  r.push_back({"", fmt("acknowledged posts per second, %d posters: PostgreSQL / file store", o.posters),
               fmt("%.0f / %.0f = %s", pg_rate, file_rate, ratio(pg_rate, file_rate).c_str())});
  for (int k = 1; k <= o.nodes; ++k) {
    const std::string col = k == 1 ? pg1 : spread(k);
    auto readers = number(table, col, Measure::readers_waiting);
    auto dps = number(table, col, Measure::deliveries_per_s);
    auto most_fds = number(table, col, Measure::most_fds_per_node);
    r.push_back({"", fmt("%d node%s: readers waiting / deliveries per second / most open files of one node",
                         k, k == 1 ? "" : "s"),
                 fmt("%.0f / %.0f / %.0f; against 1 node: %s readers, %s deliveries per second",
                     readers.value_or(0), dps.value_or(0), most_fds.value_or(0),
                     ratio(readers, number(table, pg1, Measure::readers_waiting)).c_str(),
                     ratio(dps, number(table, pg1, Measure::deliveries_per_s)).c_str())});
  }
  for (int k = 1; k <= o.nodes; ++k) {
    const std::string col = k == 1 ? pg1 : spread(k);
    auto w = number(table, col, Measure::db_writes_per_post);
    r.push_back({"", fmt("database transactions that wrote, per post, all nodes together: %d node%s", k,
                         k == 1 ? "" : "s"),
                 w ? fmt("%.3f", *w) : std::string("-")});
  }
}

}  // namespace chaton::bench
