// Phase 2, posting throughput: P posters, then 1, with R readers waiting.
#include <atomic>
#include <cinttypes>
#include <memory>
#include <vector>

#include "phases.h"
#include "proc_stats.h"
#include "stats.h"

namespace chaton::bench {

namespace {

struct RunResult {
  uint64_t acked = 0, refused = 0;
  double seconds = 0;
  std::vector<uint32_t> ack_us;
  std::string error;
};

net::awaitable<void> poster_loop(HttpConn& c, Steady::time_point end, long max_posts,
                                 std::atomic<uint64_t>& next_id, std::atomic<long>& issued, RunResult& r,
                                 Steady::time_point& last_ack) {
  try {
    while (Steady::now() < end && (max_posts == 0 || issued.fetch_add(1) < max_posts)) {
      int64_t sent = now_ns();
      unsigned code = co_await post_message(c, post_text(next_id.fetch_add(1), sent));
      last_ack = std::max(last_ack, Steady::now());
      r.ack_us.push_back(static_cast<uint32_t>((now_ns() - sent) / 1000));
      if (code == 200)
        ++r.acked;
      else
        ++r.refused;
    }
  } catch (const std::exception& e) {
    if (r.error.empty()) r.error = e.what();
  }
}

net::awaitable<RunResult> posting_run(const Options& o, const ServerProc& s, int posters,
                                      std::atomic<uint64_t>& next_id) {
  auto ex = co_await net::this_coro::executor;
  std::vector<std::unique_ptr<HttpConn>> conns;
  for (int i = 0; i < posters; ++i) conns.push_back(std::make_unique<HttpConn>(ex, s.endpoint(), s.host()));
  RunResult r;
  std::atomic<long> issued{0};
  auto t0 = Steady::now();
  auto end = t0 + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.seconds));
  Steady::time_point last_ack = t0;
  int running = posters;
  net::steady_timer done(ex, Steady::time_point::max());
  for (auto& c : conns) {
    net::co_spawn(ex, poster_loop(*c, end, o.max_posts, next_id, issued, r, last_ack),
                  [&](std::exception_ptr) {
                    if (--running == 0) done.cancel();
                  });
  }
  beast::error_code ec;
  co_await done.async_wait(net::redirect_error(net::use_awaitable, ec));
  r.seconds = std::chrono::duration<double>(last_ack - t0).count();
  for (auto& c : conns) c->close();
  co_return r;
}

}  // namespace

net::awaitable<double> throughput_phase(Run& run, Store store) {
  const Options& o = run.options;
  auto add = [&](std::string phase, std::string figure, std::string value) {
    run.report.add(std::move(phase), std::move(figure), std::move(value));
  };
  const std::string P = std::string("posting, ") + store_name(store);
  Nodes nodes;
  const std::string name = std::string("throughput-") + store_option(store);
  co_await start_nodes(run, nodes, 1, Peer::chaton, store, name, P);
  ServerProc& s = nodes.first();
  HttpConn& ctl = nodes.first_ctl();

  ClientSet cs(o, s, o.reader_transport, o.readers, 0);
  add(P, "readers' transport", transport_name(o.reader_transport));
  cs.start();
  uint64_t reached = co_await await_waiting(run, cs, nodes, P);
  add(P, "readers asked for / waiting", fmt("%d / %" PRIu64, o.readers, reached));
  if (reached == 0 && o.readers > 0) throw std::runtime_error("no reader reached the waiting state");
  // The readers' threads have started where this thread was; the posters
  // run on this one.
  if (o.posters_core >= 0) add(P, "posters pinned to", pin_posters(o));

  std::atomic<uint64_t> next_id{0};
  uint64_t acked_total = 0;
  std::vector<int> runs{o.posters};
  if (o.posters != 1) runs.push_back(1);
  std::vector<double> rates;
  for (int posters : runs) {
    note(fmt("%s: %d poster(s) for %.1f s", P.c_str(), posters, o.seconds));
    const long ticks0 = cpu_ticks(s.measured());
    const CpuSample cpu0 = cpu_sample(s.measured());
    RunResult r = co_await posting_run(o, s, posters, next_id);
    const long ticks1 = cpu_ticks(s.measured());
    const CpuSample cpu1 = cpu_sample(s.measured());
    acked_total += r.acked;
    auto t_drain = Steady::now();
    bool all = co_await await_deliveries(o, cs.shared, acked_total);
    double drain_s = seconds_since(t_drain);
    auto ack = percentiles(r.ack_us);
    double rate = r.seconds > 0 ? static_cast<double>(r.acked) / r.seconds : 0;
    rates.push_back(rate);
    std::string who = fmt("%d poster%s", posters, posters == 1 ? "" : "s");
    add(P, who + ": posts acknowledged (refused) in time",
        fmt("%" PRIu64 " (%" PRIu64 ") in %.2f s", r.acked, r.refused, r.seconds));
    add(P, who + ": acknowledged posts per second", fmt("%.0f", rate));
    add(P, who + ": acknowledgement latency p50 / p99 / max",
        fmt("%.2f / %.2f / %.2f ms", ack.p50, ack.p99, ack.max));
    add(P, who + ": server CPU", fmt("%.2f s", (ticks1 - ticks0) / kTick));
    add(P, who + ": machine CPU", cpu_use(cpu0, cpu1));
    if (reached > 0)
      add(P, who + ": connected readers had every post",
          all ? fmt("yes, %.2f s after the last acknowledgement", drain_s)
              : fmt("NO: not within the drain time of %.0f s", o.drain));
    if (!r.error.empty()) add(P, who + ": poster error", r.error);
  }
  if (rates.size() == 2 && rates[1] > 0)
    add(P, fmt("posts per second, %d posters / 1 poster", o.posters), fmt("%.1f x", rates[0] / rates[1]));

  RoomStatus st_end = co_await room_status(ctl);
  cs.stop();
  auto lat = percentiles(cs.latencies());
  Tally t = cs.tally(acked_total);
  add(P, "delivery latency to readers p50 / p90 / p99 / max (both runs)", latency_cell(lat));
  add(P, "deliveries to readers received / expected (waiting readers x posts)",
      fmt("%" PRIu64 " / %" PRIu64, cs.shared.deliveries.load(), reached * acked_total));
  add(P, "missing at readers still connected / delivered twice",
      fmt("%" PRIu64 " / %" PRIu64, t.missing_alive, t.extra_alive));
  add(P, "missing at readers whose connection was lost",
      fmt("%" PRIu64 " (%" PRIu64 " readers lost)", t.missing_lost, t.lost));
  add(P, "reader empty replies / cid changes",
      fmt("%" PRIu64 " / %" PRIu64, cs.sum([](const Worker& w) { return w.empty_replies; }),
          cs.sum([](const Worker& w) { return w.cid_changes; })));
  add(P, "reconnections (the connection of a waiting reader failed)",
      std::to_string(cs.shared.reconnections.load()));
  add(P, "readers lost (before / after waiting)",
      fmt("%" PRIu64 " / %" PRIu64, cs.shared.setup_failed.load(), cs.shared.failed_later.load()));
  add(P, "client errors", cs.errors());
  add(P, "room post-sequence at the end", fmt("%" PRId64, st_end.sequence));
  auto [how, err] = co_await stop_nodes(nodes);
  add(P, "server stop", how);
  add(P, "server stderr", err.empty() ? "(empty)" : err);
  co_return rates.empty() ? 0.0 : rates[0];
}

}  // namespace chaton::bench
