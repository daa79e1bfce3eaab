// Phase 1, the fan-out: N readers over one transport, M posts at a fixed
// pace; also each run of the nodes phase (one node or several, readers on
// one node or on each, posts on the first).
#include <algorithm>
#include <cinttypes>
#include <optional>
#include <vector>

#include "pg.h"
#include "phases.h"
#include "proc_stats.h"
#include "report.h"
#include "stats.h"

namespace chaton::bench {

constexpr auto kIdleDbSample = 1s;  // the database's idle write rate is sampled this long
// The readers' memory is read once the last of them has waited this long:
// past the server's disconnect-watch delay (kDisconnectWatchDelay, 1 s,
// src/http/session.h), in the state a reader keeps while a room is quiet.
constexpr auto kSettle = 3s;

net::awaitable<void> fanout_phase(Run& run, Transport transport, Peer peer) {
  const Options& o = run.options;
  const Layout layout{o.store, 1, false, o.clients, ""};  // named: see nodes_phase
  co_await fanout_run(run, transport, peer, layout, run.report.fanout);
}

net::awaitable<void> fanout_run(Run& run, Transport transport, Peer peer, const Layout& layout,
                                std::vector<Column>& table) {
  const Options& o = run.options;
  const std::string P =
      (layout.label.empty() ? std::string("fan-out ") + transport_name(transport) : layout.label) +
      (peer == Peer::nchan ? " (Nchan)" : "");
  table.push_back(Column{transport, peer, layout.label, {}, {}});
  const size_t column = table.size() - 1;  // the table may grow no more while this runs
  auto col = [&]() -> Column& { return table[column]; };
  Nodes nodes;
  std::string name = std::string(layout.label.empty() ? "fanout-" : "nodes-") + transport_option(transport) +
                     (peer == Peer::nchan ? "-nchan" : "") +
                     (layout.label.empty() ? std::string() : fmt("-%zu", column + 1));
  co_await start_nodes(run, nodes, layout.nodes, peer, layout.store, name, P);
  co_await sleep_for(500ms);
  const auto measured = nodes.measured();
  long rss_base = rss_kb(measured);
  long fds_base = open_fds(measured);
  if (peer == Peer::chaton) col().add("store", store_name(layout.store));
  if (!layout.label.empty()) {
    col().add("nodes (servers on one database)", std::to_string(layout.nodes));
    col().add("readers on", layout.readers_on_last || layout.nodes == 1
                                ? fmt("node %d only", layout.nodes)
                                : fmt("every node, %d each", layout.readers / layout.nodes));
    col().add("posts sent to", "node 1");
  }

  std::vector<const ServerProc*> reader_nodes;
  for (auto& s : nodes.servers)
    if (!layout.readers_on_last || s == nodes.servers.back()) reader_nodes.push_back(s.get());
  ClientSet cs(o, reader_nodes, transport, layout.readers, o.posts);
  const CpuSample cpu_setup0 = cpu_sample(measured);
  const long ticks_setup0 = cpu_ticks(measured);
  auto t_setup = Steady::now();
  cs.start();
  uint64_t reached = co_await await_waiting(run, cs, nodes, P);
  double setup_s = seconds_since(t_setup);
  const long ticks_setup1 = cpu_ticks(measured);
  const CpuSample cpu_setup1 = cpu_sample(measured);
  co_await sleep_for(kSettle);
  long rss_wait = rss_kb(measured);
  long fds_wait = open_fds(measured);
  long most_fds = 0;
  std::string fds_each;
  for (auto& sp : nodes.servers) {
    long n = open_fds(sp->measured());
    most_fds = std::max(most_fds, n);
    fds_each += (fds_each.empty() ? "" : " / ") + std::to_string(n);
  }
  note(fmt("%s: %" PRIu64 " readers waiting after %.1f s; server RSS %ld kB (was %ld kB)", P.c_str(), reached,
           setup_s, rss_wait, rss_base));

  const double connect_cpu_s = (ticks_setup1 - ticks_setup0) / kTick;
  col().add("clients asked for / waiting", fmt("%d / %" PRIu64, layout.readers, reached));
  col().add("source addresses", fmt("127.0.0.2 .. 127.0.0.%d", 1 + cs.sources(o)));
  col().add("time to get all clients waiting", fmt("%.2f s", setup_s));
  col().add("server CPU while they connected", fmt("%.2f s", connect_cpu_s));
  col().add("machine CPU while they connected", cpu_use(cpu_setup0, cpu_setup1));
  col().add("server open fds, idle / all waiting", fmt("%ld / %ld", fds_base, fds_wait));
  if (!layout.label.empty()) col().add("open fds of each node, all waiting", fds_each);
  col().add("server RSS, idle / all waiting", fmt("%ld kB / %ld kB", rss_base, rss_wait));
  if (reached > 0) {
    double per_client = static_cast<double>(rss_wait - rss_base) / static_cast<double>(reached);
    col().add("server RSS per waiting client", fmt("%.2f kB", per_client));
    col().numbers[Measure::rss_per_client] = per_client;
    col().numbers[Measure::connect_cpu_per_client] = connect_cpu_s / static_cast<double>(reached);
    col().numbers[Measure::readers_waiting] = static_cast<double>(reached);
    col().numbers[Measure::most_fds_per_node] = static_cast<double>(most_fds);
  }
  if (reached == 0) throw std::runtime_error(P + ": no reader reached the waiting state");
  HttpConn& ctl = nodes.first_ctl();

  // The database's write transactions while idle (each node records its
  // readers every sweep), to tell them from those of the posts. The nodes
  // may still be recording the readers' cids (one commit each, on the
  // commit thread, which the posts would queue behind): the posts wait
  // until the database's write rate has come down to the idle rate.
  std::optional<int64_t> xid_idle, xid0;
  double idle_s = 0;
  if (!nodes.store_url.empty()) {
    const auto quiet_writes = static_cast<int64_t>(2 * nodes.servers.size() + 1);  // per kIdleDbSample
    auto t_quiet = Steady::now();
    for (;;) {
      auto t_idle = Steady::now();
      xid_idle = pg_next_xid(run, nodes.store_url);
      co_await sleep_for(kIdleDbSample);
      xid0 = pg_next_xid(run, nodes.store_url);
      idle_s = seconds_since(t_idle);
      if (!xid_idle || !xid0 || *xid0 - *xid_idle <= quiet_writes || seconds_since(t_quiet) > o.setup_timeout)
        break;
    }
    col().add("wait for the database to go quiet after the readers connected",
              fmt("%.1f s", seconds_since(t_quiet)));
  }
  // Post M messages one at a time, at a fixed pace.
  const long ticks0 = cpu_ticks(measured);
  const long kernel0 = kernel_ticks(measured);
  const double self0 = self_cpu_seconds();
  const CpuSample cpu0 = cpu_sample(measured);
  const uint64_t bytes_in0 = cs.shared.bytes_in.load(), bytes_out0 = cs.shared.bytes_out.load();
  const uint64_t packets0 = cs.shared.packets.load();
  std::vector<uint32_t> ack_us;
  uint64_t post_errors = 0;
  auto t0 = Steady::now();
  int64_t first_send = 0;
  for (int k = 0; k < o.posts; ++k) {
    auto slot = t0 + std::chrono::milliseconds(static_cast<int64_t>(o.interval_ms) * k);
    if (Steady::now() < slot) co_await sleep_for(slot - Steady::now());
    int64_t sent = now_ns();
    if (k == 0) first_send = sent;
    unsigned code = co_await post_message(ctl, post_text(static_cast<uint64_t>(k), sent), peer);
    ack_us.push_back(static_cast<uint32_t>((now_ns() - sent) / 1000));
    if (code != 200) ++post_errors;
  }
  double posting_s = seconds_since(t0);
  const uint64_t per_client = static_cast<uint64_t>(o.posts) - post_errors;
  const uint64_t expected = reached * per_client;
  bool all = co_await await_deliveries(o, cs.shared, per_client);
  const long ticks1 = cpu_ticks(measured);
  const long kernel1 = kernel_ticks(measured);
  std::optional<int64_t> xid1;
  if (xid0) xid1 = pg_next_xid(run, nodes.store_url);
  const double phase_wall = static_cast<double>(now_ns() - first_send) / 1e9;
  const double self1 = self_cpu_seconds();
  const CpuSample cpu1 = cpu_sample(measured);
  const uint64_t bytes_in = cs.shared.bytes_in.load() - bytes_in0;
  const uint64_t bytes_out = cs.shared.bytes_out.load() - bytes_out0;
  const uint64_t packets = cs.shared.packets.load() - packets0;
  long rss_after = rss_kb(measured);
  int64_t last_delivery = cs.shared.last_delivery_ns.load();
  RoomStatus st_end = co_await room_status(*nodes.ctls.back(), peer);
  cs.stop();

  uint64_t delivered = cs.shared.deliveries.load();
  auto lat = percentiles(cs.latencies());
  auto ack = percentiles(ack_us);
  std::vector<uint32_t> per_post;
  for (auto& w : cs.workers) {
    if (per_post.size() < w->per_post_max.size()) per_post.resize(w->per_post_max.size(), 0);
    for (size_t i = 0; i < w->per_post_max.size(); ++i)
      per_post[i] = std::max(per_post[i], w->per_post_max[i]);
  }
  auto reach_all = percentiles(per_post);
  double delivery_window_s = static_cast<double>(last_delivery - first_send) / 1e9;
  const double server_cpu_s = (ticks1 - ticks0) / kTick;
  const double server_kernel_s = (kernel1 - kernel0) / kTick;
  const double deliveries = static_cast<double>(std::max<uint64_t>(delivered, 1));

  col().add("posts sent (interval)",
            fmt("%d (%d ms); %" PRIu64 " refused", o.posts, o.interval_ms, post_errors));
  Tally t = cs.tally(per_client);
  col().add("deliveries received / expected (N x M)", fmt("%" PRIu64 " / %" PRIu64, delivered, expected));
  col().add(
      "missing at clients still connected",
      fmt("%" PRIu64 "%s", t.missing_alive, all ? "" : fmt(" (drain of %.0f s ran out)", o.drain).c_str()));
  col().add("missing at clients whose connection was lost",
            fmt("%" PRIu64 " (%" PRIu64 " clients lost)", t.missing_lost, t.lost));
  col().add("duplicate deliveries", std::to_string(cs.sum([](const Worker& w) { return w.duplicates; })));
  col().add("delivery latency (to the kernel's receive) p50 / p90 / p99 / max", latency_cell(lat));
  col().add("delivery latency mean", ms(lat.mean));
  col().add("time for a post to reach every client, median / max over posts",
            fmt("%.2f / %.2f ms", reach_all.p50, reach_all.max));
  const double per_second = delivery_window_s > 0 ? static_cast<double>(delivered) / delivery_window_s : 0.0;
  col().add("deliveries per second (first post sent .. last delivery)", fmt("%.0f", per_second));
  col().numbers[Measure::deliveries_per_s] = per_second;
  if (xid_idle && xid0 && xid1 && o.posts > 0 && idle_s > 0) {
    const double idle_rate = static_cast<double>(*xid0 - *xid_idle) / idle_s;
    const double during = static_cast<double>(*xid1 - *xid0);
    const double per_post = (during - idle_rate * phase_wall) / static_cast<double>(o.posts);
    col().add("database write transactions, all nodes: idle per second / while posting (in s) / per post net of idle",
              fmt("%.1f / %.0f (%.1f s) / %.3f", idle_rate, during, phase_wall, per_post));
    col().numbers[Measure::db_writes_per_post] = per_post;
  }
  col().add("post acknowledgement p50 / p99 / max", fmt("%.2f / %.2f / %.2f ms", ack.p50, ack.p99, ack.max));
  col().add("packets received while posting (replies, events, messages)", std::to_string(packets));
  col().add("posts per packet", fmt("%.1f", static_cast<double>(delivered) /
                                                static_cast<double>(std::max<uint64_t>(packets, 1))));
  col().add("bytes from the server / from the clients, per delivery",
            fmt("%.1f / %.1f", static_cast<double>(bytes_in) / deliveries,
                static_cast<double>(bytes_out) / deliveries));
  col().add("empty packets (pings) / cid changes",
            fmt("%" PRIu64 " / %" PRIu64, cs.sum([](const Worker& w) { return w.empty_replies; }),
                cs.sum([](const Worker& w) { return w.cid_changes; })));
  col().add("packets read without a kernel receive stamp (latency taken on reading)",
            std::to_string(cs.sum([](const Worker& w) { return w.unstamped; })));
  col().add("reconnections (the connection of a waiting client failed)",
            std::to_string(cs.shared.reconnections.load()));
  col().add("clients lost (before / after waiting)",
            fmt("%" PRIu64 " / %" PRIu64, cs.shared.setup_failed.load(), cs.shared.failed_later.load()));
  col().add("client errors", cs.errors());
  col().add("server CPU for the posting phase (posts + deliveries)",
            fmt("%.2f s in %.2f s (posting took %.2f s)", server_cpu_s, phase_wall, posting_s));
  col().add("server CPU per delivery", fmt("%.2f µs", server_cpu_s * 1e6 / deliveries));
  col().add("of which in the kernel (system time)", fmt("%.2f µs", server_kernel_s * 1e6 / deliveries));
  col().add("load program CPU for the posting phase", fmt("%.2f s", self1 - self0));
  col().add("machine CPU during the posting phase", cpu_use(cpu0, cpu1));
  col().add("server RSS after the posts", fmt("%ld kB", rss_after));
  col().add("room num-chatters / post-sequence at the end",
            fmt("%" PRId64 " / %" PRId64, st_end.num_chatters, st_end.sequence));
  if (delivered > 0) {
    col().numbers[Measure::cpu_per_delivery] = server_cpu_s / deliveries;
    col().numbers[Measure::kernel_cpu_per_delivery] = server_kernel_s / deliveries;
    col().numbers[Measure::latency_p50] = lat.p50;
    col().numbers[Measure::latency_p99] = lat.p99;
    col().numbers[Measure::load_cpu_per_delivery] = (self1 - self0) / deliveries;
    col().numbers[Measure::bytes_per_delivery] = static_cast<double>(bytes_in + bytes_out) / deliveries;
  }

  auto [how, err] = co_await stop_nodes(nodes);
  col().add("server stop", how);
  col().add("server stderr", err.empty() ? "(empty)" : err);
}

}  // namespace chaton::bench
