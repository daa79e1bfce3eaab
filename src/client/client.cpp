// chaton::Client: see client.h. The login and post requests block the
// caller; the comet loop is a coroutine on an io_context of its own, run by
// the observer thread, so bye() ends it at once, even mid long-poll.
#include "client/client.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "client/http_fetch.h"
#include "render/html.h"
#include "util/sexpr.h"
#include "util/time_source.h"

namespace chaton {

namespace net = boost::asio;
namespace json = boost::json;
using client::HttpReply;
using client::HttpRequest;

namespace {

constexpr int64_t kExpiredCid = -1;  // the server forgot us (loose login off)
constexpr std::string_view kLoginPath = "apilogin";

struct Login {
  std::string room_name;
  std::string post_uri;
  std::string comet_uri;
  std::string icon_uri;
  int64_t cid = 0;
  uint64_t pos = 0;
};

Result<Login> parse_login(std::string_view body) {
  auto datum = sexpr::read(body);
  if (!datum) return Status(Errc::corrupt, "apilogin: " + datum.status().message());
  Login login;
  auto post = sexpr::alist_string(*datum, "post-uri");
  auto comet = sexpr::alist_string(*datum, "comet-uri");
  auto cid = sexpr::alist_integer(*datum, "cid");
  auto pos = sexpr::alist_integer(*datum, "pos");
  if (!post || !comet || !cid || !pos || *pos < 0) {
    return Status(Errc::corrupt, "apilogin: the reply lacks post-uri, comet-uri, cid or pos");
  }
  login.post_uri = std::move(*post);
  login.comet_uri = std::move(*comet);
  login.room_name = sexpr::alist_string(*datum, "room-name").value_or("");
  login.icon_uri = sexpr::alist_string(*datum, "icon-uri").value_or("");
  login.cid = *cid;
  login.pos = static_cast<uint64_t>(*pos);
  return login;
}

HttpRequest base_request(std::string method, std::string url, const ClientOptions& o) {
  HttpRequest req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.timeout = o.request_timeout;
  req.ca_file = o.ca_file;
  return req;
}

Status refusal(std::string_view what, const HttpReply& reply) {
  return Status(client::errc_for_status(reply.status), std::string(what) + client::reply_reason(reply));
}

Result<Login> login(const std::string& room_url, const std::string& who, const ClientOptions& o) {
  HttpRequest req = base_request("POST", room_url + std::string(kLoginPath), o);
  req.body = "who=" + client::form_encode(who) + "&s=1";
  auto reply = client::fetch_blocking(std::move(req));
  if (!reply) return reply.status();
  if (!reply->ok()) return refusal("apilogin: ", *reply);
  return parse_login(reply->body);
}

PostAck parse_ack(std::string_view body) {
  PostAck ack;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return ack;  // an original server's reply says nothing we use
  const json::object& o = v.as_object();
  if (const auto* pos = o.if_contains("pos"); pos && pos->is_uint64()) ack.pos = pos->as_uint64();
  if (const auto* pos = o.if_contains("pos"); pos && pos->is_int64() && pos->as_int64() >= 0)
    ack.pos = static_cast<uint64_t>(pos->as_int64());
  if (const auto* id = o.if_contains("id"); id && id->is_string()) ack.id = id->as_string();
  if (const auto* link = o.if_contains("permalink"); link && link->is_string())
    ack.permalink = link->as_string();
  return ack;
}

int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Client::Impl {
  std::string room_url;
  std::string who;
  ClientOptions options;
  Login login;  // cid and pos in it change while observing: guarded by mu

  mutable std::mutex mu;
  std::unique_ptr<net::io_context> ioc;
  std::thread thread;
  std::atomic<bool> stopping{false};
  PacketHandler on_packet;
  ErrorHandler on_error;

  int64_t cid() const {
    std::lock_guard lock(mu);
    return login.cid;
  }
  uint64_t pos() const {
    std::lock_guard lock(mu);
    return login.pos;
  }

  std::string comet_url() const {
    std::lock_guard lock(mu);
    char sep = login.comet_uri.find('?') == std::string::npos ? '?' : '&';
    return login.comet_uri + sep + "t=" + std::to_string(now_millis()) + "&c=" + std::to_string(login.cid) +
           "&p=" + std::to_string(login.pos) + "&s=1";
  }

  void report(const Status& st) {
    if (!on_error || stopping) return;
    try {
      on_error(st);
    } catch (...) {  // a handler's failure must not end the loop
    }
  }

  void deliver(const Packet& p) {
    try {
      on_packet(p);
    } catch (const std::exception& e) {
      report(Status(Errc::invalid, std::string("observer callback failed: ") + e.what()));
    } catch (...) {
      report(Status(Errc::invalid, "observer callback failed"));
    }
  }

  // The server no longer knows our cid: log in again for a new one, and
  // keep our pos so nothing is skipped.
  net::awaitable<Status> relogin() {
    HttpRequest req = base_request("POST", room_url + std::string(kLoginPath), options);
    req.body = "who=" + client::form_encode(who) + "&s=1";
    auto reply = co_await client::fetch(std::move(req));
    if (!reply) co_return reply.status();
    if (!reply->ok()) co_return refusal("apilogin: ", *reply);
    auto fresh = parse_login(reply->body);
    if (!fresh) co_return fresh.status();
    std::lock_guard lock(mu);
    login.cid = fresh->cid;
    co_return Status::ok();
  }

  net::awaitable<Status> poll_once() {
    HttpRequest req = base_request("GET", comet_url(), options);
    req.timeout = options.comet_timeout;
    auto reply = co_await client::fetch(std::move(req));
    if (!reply) co_return reply.status();
    if (!reply->ok()) co_return refusal("comet: ", *reply);
    auto packet = parse_packet(reply->body);
    if (!packet) co_return packet.status();
    if (packet->cid == kExpiredCid) co_return co_await relogin();
    {
      std::lock_guard lock(mu);
      login.cid = packet->cid;
      login.pos = packet->pos;
    }
    if (!stopping) deliver(*packet);
    co_return Status::ok();
  }

  net::awaitable<void> comet_loop() {
    net::steady_timer pause(co_await net::this_coro::executor);
    while (!stopping) {
      Status st = co_await poll_once();
      if (st || stopping) continue;
      report(st);
      pause.expires_after(random_between(RealTimeSource::instance(), options.retry_min, options.retry_max));
      co_await pause.async_wait(net::as_tuple(net::use_awaitable));
    }
  }

  void run_loop() {
    try {
      net::co_spawn(*ioc, comet_loop(), net::detached);
      ioc->run();
    } catch (const std::exception& e) {
      report(Status(Errc::io, std::string("observer stopped: ") + e.what()));
    }
  }

  void stop_and_join() {
    stopping = true;
    if (ioc) ioc->stop();
    if (!thread.joinable()) return;
    if (thread.get_id() == std::this_thread::get_id()) return;  // from a callback: ends on return
    thread.join();
    ioc.reset();
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->stop_and_join();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Client::~Client() {
  if (!impl_) return;
  impl_->stop_and_join();
  if (impl_->thread.joinable()) impl_->thread.detach();  // destroyed from its own callback
}

Result<Client> Client::connect(std::string room_url, std::string who, ClientOptions options) {
  try {
    if (!room_url.ends_with('/')) room_url.push_back('/');
    auto l = login(room_url, who, options);
    if (!l) return l.status();
    auto impl = std::make_unique<Impl>();
    impl->room_url = std::move(room_url);
    impl->who = std::move(who);
    impl->options = std::move(options);
    impl->login = std::move(l.value());
    return Client(std::move(impl));
  } catch (const std::exception& e) {
    return Status(Errc::io, std::string("connect: ") + e.what());
  }
}

Status Client::observe(PacketHandler on_packet, ErrorHandler on_error) {
  auto& m = *impl_;
  if (m.thread.joinable()) return Status(Errc::invalid, "already observing");
  if (!on_packet) return Status(Errc::invalid, "observe needs a callback");
  try {
    m.on_packet = std::move(on_packet);
    m.on_error = std::move(on_error);
    m.stopping = false;
    m.ioc = std::make_unique<net::io_context>(1);
    m.thread = std::thread([&m] { m.run_loop(); });
  } catch (const std::exception& e) {
    return Status(Errc::io, std::string("observe: ") + e.what());
  }
  return Status::ok();
}

Result<PostAck> Client::talk(std::string_view nick, std::string_view text) {
  try {
    const auto& m = *impl_;
    HttpRequest req = base_request("POST", m.login.post_uri, m.options);
    req.body = "nick=" + client::form_encode(nick) + "&text=" + client::form_encode(text) +
               "&cid=" + std::to_string(m.cid());
    auto reply = client::fetch_blocking(std::move(req));
    if (!reply) return reply.status();
    if (!reply->ok()) return refusal("", *reply);
    return parse_ack(reply->body);
  } catch (const std::exception& e) {
    return Status(Errc::io, std::string("talk: ") + e.what());
  }
}

void Client::bye() {
  if (impl_) impl_->stop_and_join();
}

std::string Client::permalink(int64_t sec, int64_t usec) const {
  return chaton::permalink(impl_->room_url, sec, usec);
}

const std::string& Client::room_url() const { return impl_->room_url; }
const std::string& Client::room_name() const { return impl_->login.room_name; }
const std::string& Client::post_uri() const { return impl_->login.post_uri; }
const std::string& Client::comet_uri() const { return impl_->login.comet_uri; }
const std::string& Client::icon_uri() const { return impl_->login.icon_uri; }
int64_t Client::cid() const { return impl_->cid(); }
uint64_t Client::pos() const { return impl_->pos(); }

}  // namespace chaton
