// Outgoing webhooks: see webhook.h. One thread per Dispatcher runs an
// io_context with one coroutine per URL; publish() hands posts over through
// a mutex-guarded queue and a wake-up timer.
#include "webhooks/webhook.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "client/http_fetch.h"
#include "render/html.h"
#include "rooms/room.h"
#include "util/civil_time.h"
#include "util/log.h"

namespace chaton::webhooks {

namespace net = boost::asio;
namespace json = boost::json;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr uint64_t kDropLogEvery = 100;  // one log line per this many dropped posts
constexpr std::string_view kUserAgent = "chaton-webhook/" CHATON_VERSION;

}  // namespace

std::string format_rfc3339(int64_t sec, int64_t usec) {
  DateTime t = utc_from_seconds(sec);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", t.date.year, t.date.month, t.date.day,
                t.hour, t.minute, t.second, static_cast<int>(usec));
  return buf;
}

std::string webhook_json(std::string_view slug, std::string_view room_url, const Post& post) {
  json::object o;
  o["room"] = slug;
  o["nick"] = post.nick;
  o["time"] = format_rfc3339(post.sec, post.usec);
  o["sec"] = post.sec;
  o["usec"] = post.usec;
  o["text"] = post.text;
  o["permalink"] = permalink(room_url, post.sec, post.usec);
  return json::serialize(o);
}

// One receiving URL: its queue (guarded by Impl::mu) and the timer its
// worker sleeps on while the queue is empty.
struct Target {
  Target(net::io_context& ioc, std::string u) : url(std::move(u)), wake(ioc) {}
  std::string url;
  std::deque<std::string> queue;
  net::steady_timer wake;
};

struct Dispatcher::Impl {
  Impl(std::string s, std::string r, WebhookOptions o, LogFn l)
      : slug(std::move(s)), room_url(std::move(r)), options(o), log(l ? std::move(l) : LogFn(log_warning)) {}

  std::string slug;
  std::string room_url;
  WebhookOptions options;
  LogFn log;
  net::io_context ioc{1};  // declared before the targets: destroyed after them
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  std::vector<std::unique_ptr<Target>> targets;
  mutable std::mutex mu;
  WebhookStats stats;  // guarded by mu
  std::thread thread;
  std::atomic<bool> stopped{false};

  // The URL without its query, which may hold the receiver's secret token.
  void note(std::string_view url, std::string_view what) {
    std::string_view shown = url.substr(0, url.find('?'));
    log("webhook " + std::string(shown) + " (room " + slug + "): " + std::string(what));
  }

  void enqueue(Target& t, const std::string& body) {
    std::lock_guard lock(mu);
    if (t.queue.size() >= std::max<size_t>(1, options.queue_limit)) {
      t.queue.pop_front();
      if (stats.dropped++ % kDropLogEvery == 0) {
        note(t.url, "queue full (" + std::to_string(options.queue_limit) + " posts): dropping the oldest (" +
                        std::to_string(stats.dropped) + " dropped so far)");
      }
    }
    t.queue.push_back(body);
  }

  std::optional<std::string> take(Target& t) {
    std::lock_guard lock(mu);
    if (t.queue.empty()) return std::nullopt;
    std::string body = std::move(t.queue.front());
    t.queue.pop_front();
    return body;
  }

  void count(uint64_t WebhookStats::*field) {
    std::lock_guard lock(mu);
    ++(stats.*field);
  }

  net::awaitable<void> deliver(Target& t, const std::string& body) {
    net::steady_timer backoff(ioc);
    auto delay = options.first_retry;
    for (int attempt = 1;; ++attempt) {
      client::HttpRequest req;
      req.method = "POST";
      req.url = t.url;
      req.body = body;
      req.content_type = "application/json";
      req.timeout = options.timeout;
      req.user_agent = kUserAgent;
      auto reply = co_await client::fetch(std::move(req));
      count(&WebhookStats::attempts);
      if (reply && reply->ok()) {
        count(&WebhookStats::delivered);
        co_return;
      }
      std::string why = reply ? client::reply_reason(*reply) : reply.status().message();
      if (attempt >= options.max_attempts) {
        count(&WebhookStats::given_up);
        note(t.url, "giving up on a post after " + std::to_string(attempt) + " attempts: " + why);
        co_return;
      }
      if (attempt == 1) note(t.url, "delivery failed (" + why + "); retrying with back-off");
      backoff.expires_after(delay);
      co_await backoff.async_wait(kTuple);
      delay = std::min(delay * 2, options.max_retry);
    }
  }

  net::awaitable<void> worker(Target& t) {
    while (!stopped) {
      if (auto body = take(t)) {
        co_await deliver(t, *body);
        continue;
      }
      t.wake.expires_at(net::steady_timer::time_point::max());
      co_await t.wake.async_wait(kTuple);  // publish() cancels it
    }
  }

  void run() {
    try {
      ioc.run();
    } catch (const std::exception& e) {
      log("webhooks (room " + slug + ") stopped: " + e.what());
    }
  }
};

Dispatcher::Dispatcher(std::string slug, std::string room_url, std::vector<std::string> urls,
                       WebhookOptions options, LogFn log)
    : impl_(std::make_unique<Impl>(std::move(slug), std::move(room_url), options, std::move(log))) {
  auto& m = *impl_;
  for (auto& url : urls) m.targets.push_back(std::make_unique<Target>(m.ioc, std::move(url)));
  for (auto& t : m.targets) net::co_spawn(m.ioc, m.worker(*t), net::detached);
  m.thread = std::thread([&m] { m.run(); });
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::publish(std::span<const Post> posts) {
  auto& m = *impl_;
  if (m.stopped || posts.empty()) return;
  for (const Post& p : posts) {
    std::string body = webhook_json(m.slug, m.room_url, p);
    for (auto& t : m.targets) m.enqueue(*t, body);
  }
  net::post(m.ioc, [&m] {
    for (auto& t : m.targets) t->wake.cancel();
  });
}

void Dispatcher::stop() {
  auto& m = *impl_;
  if (m.stopped.exchange(true)) return;
  m.work.reset();
  m.ioc.stop();
  if (m.thread.joinable()) m.thread.join();
}

WebhookStats Dispatcher::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::shared_ptr<Dispatcher> attach_webhooks(Room& room, WebhookOptions options, LogFn log) {
  const RoomSettings& s = room.settings();
  if (s.config.webhooks.empty()) return nullptr;
  auto d = std::make_shared<Dispatcher>(s.config.slug, s.url, s.config.webhooks, options, std::move(log));
  room.on_publish([d](std::span<const Post> posts) { d->publish(posts); });
  return d;
}

}  // namespace chaton::webhooks
