// Server: see server.h.
#include "server/server.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <optional>
#include <ostream>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "access/connection_limiter.h"
#include "access/rate_limiter.h"
#include "endpoints/router.h"
#include "http/caching.h"
#include "http/listener.h"
#include "http/loop_pool.h"
#include "http/socket_activation.h"
#include "http/tls_context.h"
#include "metrics/metrics.h"
#include "postgres/notify_listener.h"
#include "server/daily_archiver.h"
#include "server/room_store.h"
#include "util/log.h"
#include "util/time_source.h"
#include "webhooks/webhook.h"

namespace chaton::server {

using endpoints::RoomEndpoints;
using endpoints::Router;
using http::ExchangePtr;
using http::Handler;
using http::Listener;
using http::OriginPolicy;
using http::Request;
using http::SessionLimits;
using http::TlsProvider;
using http::UpgradeDecision;
using pages::Assets;
using pages::make_assets;

namespace net = boost::asio;
using tcp = net::ip::tcp;

inline constexpr std::chrono::seconds kSweepInterval{1};
// How long a stopping server waits for its connections to finish before it
// cuts them (docs/DEPLOY.md, "Stopping and restarting"), and how often it
// looks meanwhile.
inline constexpr std::chrono::seconds kStopTimeout{10};
inline constexpr std::chrono::milliseconds kStopPollInterval{20};

// The Impl is the listener's Handler: it forwards to the router, which can
// only be built once the port, and so the public URL, is known.
struct Server::Impl final : Handler {
  Impl(Config c, const Clock& clk)
      : config(std::move(c)),
        clock(clk),
        time(clk),
        threads(config.site.threads > 0
                    ? config.site.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        loops(static_cast<size_t>(threads)),
        signals(loops.loop(0), SIGINT, SIGTERM),
        reload_signal(loops.loop(0), SIGHUP),
        reopen_signal(loops.loop(0), SIGUSR1),
        tls(config.site),
        sweeper(loops.loop(0)),
        stop_timer(loops.loop(0)) {
    limits.drain = &drain;
    limits.time = &time;
    limits.max_body_bytes = static_cast<uint64_t>(config.limits.max_body_bytes);
    limits.max_header_bytes = static_cast<uint32_t>(config.limits.max_header_bytes);
    limits.idle_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(config.limits.request_timeout * 1000));
  }

  Status build_access_controls();

  void handle(const ExchangePtr& ex) override { router->handle(ex); }
  UpgradeDecision upgrade(const Request& req, const std::string& address) override {
    return router->upgrade(req, address);
  }
  void wait_for_reload();
  void wait_for_reopen();
  Status open_rooms(std::ostream& out);
  // Several nodes on one database: hear the others' posts (docs/SCALING.md).
  void listen_to_other_nodes();
  void schedule_sweep();
  // The stop, on loop 0 (docs/DEPLOY.md, "Stopping and restarting"): the
  // sessions drain and the readers are sent away; once no connection is
  // left, or after kStopTimeout, the rooms commit what is queued and the
  // loops stop.
  void begin_stop();
  void wait_for_connections();
  void finish_stop();

  Config config;
  const Clock& clock;
  RealTimeSource time;  // timers, timeouts and their random draws; its wall clock is `clock`
  int threads;
  // The sessions left when the loops stop (cut at kStopTimeout) are
  // destroyed with the loops, and give their places back then: what they
  // hold on to is declared before the loops, so it outlives them.
  http::Drain drain;                               // every open session
  std::unique_ptr<ConnectionLimiter> connections;  // their places under the caps
  http::LoopPool loops;  // one event loop per thread; loop 0 also runs the listener, signals and timers
  net::signal_set signals;
  net::signal_set reload_signal;
  net::signal_set reopen_signal;  // SIGUSR1: reopen the log files
  TlsProvider tls;
  net::steady_timer sweeper;
  net::steady_timer stop_timer;
  SessionLimits limits;
  AddressRanges trusted_proxies;
  AddressRanges metrics_allow;  // who may read /metrics and /healthz
  // Every series of /metrics (docs/DEPLOY.md, "Monitoring"); the rooms hold theirs too.
  std::shared_ptr<metrics::Registry> registry = std::make_shared<metrics::Registry>();
  std::shared_ptr<RateLimiter> rate_limiter;
  Assets assets;
  std::unique_ptr<Router> router;
  std::shared_ptr<Listener> listener;
  std::vector<std::shared_ptr<Room>> rooms;
  std::string node;  // this process among the nodes sharing a database: HOST:PORT
  std::shared_ptr<postgres::NotifyListener> other_nodes;  // null with the file store
  std::unique_ptr<DailyArchiver> archiver;                // archives every room at UTC midnight
  std::string public_url;
  uint16_t port = 0;
  std::atomic<bool> stopping{false};
  std::string stop_cause = "stop requested";  // the signal, when one stopped it
  std::chrono::steady_clock::time_point stop_began;
  size_t open_at_stop = 0;  // connections open when the stop began
};

namespace {

// Process-wide. A peer gone mid-write makes write() fail with EPIPE, which
// the session handles; past the file-size limit write() fails with EFBIG,
// which the store answers like a full disk. Either signal would kill the
// server instead.
void ignore_write_signals() {
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
}

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// An address list from the configuration, or an error naming the key.
Result<AddressRanges> address_list(const std::vector<std::string>& items, const char* key) {
  std::string text;
  for (const auto& item : items) text += item + "\n";
  std::vector<std::string> errors;
  AddressRanges ranges = AddressRanges::parse(text, &errors);
  if (!errors.empty()) return Status(Errc::invalid, std::string(key) + ": " + errors.front());
  return ranges;
}

RoomSettings settings_for(const RoomConfig& rc, const Config& c, const std::string& public_url,
                          std::shared_ptr<RateLimiter> rate_limiter,
                          std::shared_ptr<metrics::Registry> registry) {
  RoomSettings s;
  s.rate_limiter = std::move(rate_limiter);
  s.metrics = std::move(registry);
  s.config = rc;
  s.url = public_url + rc.url_path;
  s.render.room_url = s.url;
  s.render.img_size_limit = c.appearance.img_size_limit;
  s.render.embed_youtube_width = c.appearance.embed_youtube_width;
  s.render.embed_youtube_height = c.appearance.embed_youtube_height;
  s.limits.text_limit = static_cast<size_t>(c.limits.text_limit);
  s.limits.nick_limit = static_cast<size_t>(c.limits.nick_limit);
  s.client_timeout = std::chrono::microseconds(static_cast<int64_t>(c.comet.client_timeout * 1e6));
  s.version = CHATON_VERSION;
  return s;
}

}  // namespace

Status Server::Impl::build_access_controls() {
  auto trusted = address_list(config.site.trusted_proxies, "site.trusted_proxies");
  if (!trusted) return trusted.status();
  auto exempt = address_list(config.limits.rate_limit_exempt, "limits.rate_limit_exempt");
  if (!exempt) return exempt.status();
  auto allow = address_list(config.site.metrics_allow, "site.metrics_allow");
  if (!allow) return allow.status();
  metrics_allow = std::move(allow.value());
  trusted_proxies = std::move(trusted.value());
  limits.trusted_proxies = &trusted_proxies;
  connections = std::make_unique<ConnectionLimiter>(
      static_cast<size_t>(config.limits.max_connections),
      static_cast<size_t>(config.limits.max_connections_per_address), trusted_proxies,
      static_cast<size_t>(config.limits.max_buffered_bytes_per_address));
  limits.connections = connections.get();
  rate_limiter =
      std::make_shared<RateLimiter>(config.limits.post_rate, static_cast<double>(config.limits.post_burst),
                                    std::move(exempt.value()), clock);
  // Read when /metrics is asked for: the limiters count already.
  registry->gauge_fn("chaton_open_connections", "Open connections (HTTP, SSE and WebSocket).", {},
                     [this] { return static_cast<int64_t>(connections->open()); });
  const char* limited = "chaton_rate_limited_requests_total";
  const char* limited_help = "Requests refused with 429 by a per-address limit.";
  registry->counter_fn(limited, limited_help, {{"limit", "post_rate"}},
                       [this] { return rate_limiter->refused(); });
  registry->counter_fn(limited, limited_help, {{"limit", "max_connections_per_address"}}, [this] {
    return connections->refused(ConnectionLimiter::Verdict::too_many_from_address);
  });
  registry->counter_fn("chaton_refused_connections_total",
                       "Connections refused with 503 because max_connections were open.", {},
                       [this] { return connections->refused(ConnectionLimiter::Verdict::too_many); });
  return {};
}

Status Server::Impl::open_rooms(std::ostream& out) {
  std::vector<std::unique_ptr<RoomEndpoints>> endpoints;
  for (const auto& rc : config.rooms) {
    auto room = std::make_shared<Room>(settings_for(rc, config, public_url, rate_limiter, registry),
                                       open_room_store(config.store, rc, clock, node), clock);
    std::vector<std::string> warnings;
    Status st = room->open(&warnings);
    for (const auto& w : warnings) out << "  warning: room " << rc.slug << ": " << w << "\n";
    if (!st) return Status(st.code(), "room '" + rc.slug + "': " + st.message());
    out << "  room " << rc.slug << " \"" << rc.name << "\" at " << room->settings().url
        << "  (data: " << rc.data_dir << ", " << room->status().sequence << " posts so far)\n";
    if (webhooks::attach_webhooks(*room)) out << "    posts go to " << rc.webhooks.size() << " webhook(s)\n";
    rooms.push_back(room);
    endpoints.push_back(
        std::make_unique<RoomEndpoints>(room, config, assets, time, open_search_index(config.store, rc)));
  }
  router = std::make_unique<Router>(std::move(endpoints), clock,
                                    OriginPolicy(public_url, config.site.allowed_origins, tls.enabled()),
                                    std::make_unique<endpoints::Monitoring>(registry, metrics_allow, rooms));
  return {};
}

void Server::Impl::listen_to_other_nodes() {
  if (config.store.url.empty()) return;
  other_nodes = std::make_shared<postgres::NotifyListener>(
      loops.loop(0).get_executor(), config.store.url,
      [this](const postgres::Notice& notice) {
        for (auto& r : rooms) {
          if (r->slug() != notice.slug) continue;
          if (notice.cid)
            r->cid_announced(*notice.cid, notice.numbering);
          else
            r->store_changed(notice.sequence);
        }
      },
      // Anything may have been committed while no one listened.
      [this] {
        for (auto& r : rooms) r->store_changed(std::nullopt);
      });
  other_nodes->start();
}

void Server::Impl::schedule_sweep() {
  sweeper.expires_after(kSweepInterval);
  sweeper.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping) return;
    for (auto& r : rooms) r->sweep();
    for (const auto& e : router->rooms()) e->flush_logs();
    schedule_sweep();
  });
}

Server::Server(Config config, const Clock& clock) : impl_(std::make_unique<Impl>(std::move(config), clock)) {}

Server::~Server() {
  try {
    stop();
    if (impl_->archiver) impl_->archiver->stop();
    for (auto& r : impl_->rooms) r->close();
    if (impl_->router)
      for (const auto& e : impl_->router->rooms()) e->flush_logs();
  } catch (const std::exception& e) {  // out of memory or threads while stopping: say so, go on
    log_error(std::string("stopping the server failed: ") + e.what());
  }
}

uint16_t Server::port() const { return impl_->port; }

Status Server::archive_now(Date today) {
  if (!impl_->archiver) return Status(Errc::invalid, "the server is not started");
  return impl_->archiver->run_now(today);
}
const std::string& Server::public_url() const { return impl_->public_url; }

size_t Server::waiting_readers(std::string_view slug) const {
  for (const auto& r : impl_->rooms)
    if (r->slug() == slug) return r->waiting_readers();
  return 0;
}

Status Server::start(std::ostream& out) {
  auto& m = *impl_;
  ignore_write_signals();
  // A socket passed by systemd (chaton.socket) wins over site.listen
  // (docs/DEPLOY.md, "Restarts and upgrades").
  auto inherited = http::take_inherited_listen_socket();
  if (!inherited) return inherited.status();
  std::optional<tcp::endpoint> endpoint;
  if (!*inherited) {
    auto hp = parse_host_port(m.config.site.listen);
    if (!hp) return hp.status();
    auto resolved = http::resolve_listen_address(hp->host, hp->port);
    if (!resolved) return resolved.status();
    endpoint = *resolved;
  }

  m.assets = make_assets(m.config.appearance.img_size_limit);
  m.assets.js_etag = http::entity_tag(m.assets.js);  // once for every room
  m.assets.css_etag = http::entity_tag(m.assets.css);
  if (Status st = m.build_access_controls(); !st) return st;
  if (m.tls.enabled())
    if (Status st = m.tls.reload(); !st) return st;
  const std::string scheme = m.tls.enabled() ? "https://" : "http://";
  m.listener = std::make_shared<Listener>(m.loops, m, m.limits, m.tls);
  if (Status st = endpoint ? m.listener->listen(*endpoint) : m.listener->adopt(**inherited); !st) return st;
  m.port = m.listener->local_endpoint().port();
  const auto addr = m.listener->local_endpoint().address();
  m.public_url = m.config.site.public_url.empty()
                     ? scheme + url_host(addr.to_string()) + ":" + std::to_string(m.port)
                     : m.config.site.public_url;

  out << "chaton " << CHATON_VERSION << " listening on " << scheme << url_host(addr.to_string()) << ":"
      << m.port << "/ (" << m.threads << " threads" << (endpoint ? "" : ", socket from the service manager")
      << "), public URL " << m.public_url << "/\n";
  auto store = prepare_store(m.config.store);
  if (!store) return store.status();
  out << "  store: " << *store << "\n";
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  m.node = std::string(host) + ":" + std::to_string(m.port);
  if (Status st = m.open_rooms(out); !st) return st;
  m.listen_to_other_nodes();
  out.flush();

  m.signals.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    impl_->stop_cause = signal == SIGTERM ? "SIGTERM" : "SIGINT";
    stop();
  });
  m.wait_for_reload();
  m.wait_for_reopen();
  m.listener->run();
  m.schedule_sweep();
  m.archiver = std::make_unique<DailyArchiver>(m.loops.loop(0), m.time, m.rooms);
  m.archiver->start();
  return {};
}

// SIGHUP: re-read the TLS certificate and key; open connections keep theirs.
void Server::Impl::wait_for_reload() {
  reload_signal.async_wait([this](boost::system::error_code ec, int) {
    if (ec || stopping) return;
    if (tls.enabled()) {
      Status st = tls.reload();
      if (st)
        log_info("SIGHUP: TLS certificate reloaded");
      else
        log_error("SIGHUP: TLS reload failed, keeping the old certificate: " + st.message());
    }
    wait_for_reload();
  });
}

// SIGUSR1 (nginx's convention; docs/DEPLOY.md, "Logs"): every log file the
// server appends to is reopened, so logrotate can rename them and the next
// lines go to new files. archive.log is opened afresh by each archive run.
void Server::Impl::wait_for_reopen() {
  reopen_signal.async_wait([this](boost::system::error_code ec, int) {
    if (ec || stopping) return;
    for (const auto& e : router->rooms()) e->reopen_logs();
    log_info("SIGUSR1: log files reopened");
    wait_for_reopen();
  });
}

void Server::run() { impl_->loops.run(); }

void Server::stop() {
  auto& m = *impl_;
  if (m.stopping.exchange(true)) return;
  if (m.listener) m.listener->stop();
  boost::system::error_code ignored;
  m.reload_signal.cancel(ignored);
  m.reopen_signal.cancel(ignored);
  net::post(m.loops.loop(0), [&m] { m.begin_stop(); });
}

void Server::Impl::begin_stop() {
  stop_began = std::chrono::steady_clock::now();
  open_at_stop = connections ? connections->open() : 0;
  drain.start();                            // idle connections close, busy ones after their response
  for (auto& r : rooms) r->stop_readers();  // long-polls answer empty, streams say come back
  wait_for_connections();
}

// Posts in flight hold their connections until they are answered, so no
// connection left means every post received was committed and answered.
void Server::Impl::wait_for_connections() {
  size_t open = connections ? connections->open() : 0;
  if (open > 0 && std::chrono::steady_clock::now() - stop_began < kStopTimeout) {
    stop_timer.expires_after(kStopPollInterval);
    stop_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) wait_for_connections();
    });
    return;
  }
  finish_stop();
}

// Finishes an archive run, then commits what is queued (posts whose
// connections were cut are durable, only not answered), before the I/O
// threads go away.
void Server::Impl::finish_stop() {
  size_t cut = connections ? connections->open() : 0;
  if (other_nodes) other_nodes->stop();
  if (archiver) archiver->stop();
  for (auto& r : rooms) r->close();
  auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stop_began);
  log_info(stop_cause + ": stopped in " + std::to_string(took.count()) + " ms; " +
           std::to_string(open_at_stop - std::min(open_at_stop, cut)) + " of " +
           std::to_string(open_at_stop) + " connections finished, " + std::to_string(cut) +
           " cut after the " + std::to_string(kStopTimeout.count()) + " s limit");
  loops.stop();
}

}  // namespace chaton::server
