// NotifyListener: see notify_listener.h.
#include "postgres/notify_listener.h"

#include <libpq-fe.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <charconv>
#include <cstdint>

#include "postgres/pg_connection.h"
#include "util/log.h"

namespace chaton::postgres {

namespace net = boost::asio;
using Wait = net::posix::stream_descriptor::wait_type;

std::optional<Notice> parse_notice(std::string_view payload) {
  size_t space = payload.find(' ');
  Notice n;
  n.slug = std::string(payload.substr(0, space));
  if (n.slug.empty()) return std::nullopt;
  if (space == std::string_view::npos) return n;
  std::string_view digits = payload.substr(space + 1);
  bool is_cid = digits.starts_with('+');
  if (is_cid) {
    digits.remove_prefix(1);
    if (size_t next = digits.find(' '); next != std::string_view::npos) {
      n.numbering = std::string(digits.substr(next + 1));
      digits = digits.substr(0, next);
      if (n.numbering.empty() || n.numbering.find(' ') != std::string::npos) return std::nullopt;
    }
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (is_cid) {
    if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    n.cid = static_cast<int64_t>(value);
  } else {
    n.sequence = value;
  }
  return n;
}

NotifyListener::NotifyListener(net::any_io_executor ex, std::string url, OnNotice on_notice,
                               OnConnected on_connected, std::chrono::milliseconds retry_delay)
    : ex_(ex),
      url_(std::move(url)),
      where_(describe_url(url_)),
      on_notice_(std::move(on_notice)),
      on_connected_(std::move(on_connected)),
      retry_delay_(retry_delay),
      socket_(ex),
      retry_(ex),
      deadline_(ex) {}

NotifyListener::~NotifyListener() { close(); }

void NotifyListener::start() {
  net::dispatch(ex_, [self = shared_from_this()] {
    if (self->state_ == State::idle) self->connect();
  });
}

void NotifyListener::stop() {
  net::dispatch(ex_, [self = shared_from_this()] {
    self->state_ = State::stopped;
    self->retry_.cancel();
    self->deadline_.cancel();
    self->close();
  });
}

void NotifyListener::close() {
  ++generation_;
  // libpq owns the descriptor: release it (which cancels our waits), then
  // let PQfinish close it.
  if (socket_.is_open()) socket_.release();
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

bool NotifyListener::watch_socket() {
  int fd = PQsocket(conn_);
  if (fd < 0) return false;
  if (socket_.is_open() && socket_.native_handle() == fd) return true;
  if (socket_.is_open()) socket_.release();
  boost::system::error_code ec;
  socket_.assign(fd, ec);
  return !ec;
}

void NotifyListener::unwatch_socket() {
  if (socket_.is_open()) socket_.release();
}

void NotifyListener::connect() {
  close();
  state_ = State::connecting;
  ConnectParams params = connect_params(url_, "chaton-listen");
  conn_ = PQconnectStartParams(params.keys.data(), params.values.data(), /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) == CONNECTION_BAD)
    return fail(conn_ ? PQerrorMessage(conn_) : "out of memory");
  log_notices(conn_);
  // libpq does not time out a connection it is polled for: we do.
  deadline_.expires_after(std::chrono::seconds(kConnectTimeoutSeconds));
  deadline_.async_wait([self = shared_from_this(), gen = generation_](boost::system::error_code ec) {
    if (ec || gen != self->generation_ || self->state_ != State::connecting) return;
    self->fail("no connection within " + std::to_string(kConnectTimeoutSeconds) + " s");
  });
  // As libpq says: behave as if PQconnectPoll had last said "writing".
  poll_connect(false);
}

void NotifyListener::poll_connect(bool want_read) {
  if (!watch_socket()) return fail("the connection has no socket");
  socket_.async_wait(want_read ? Wait::wait_read : Wait::wait_write,
                     [self = shared_from_this(), gen = generation_](boost::system::error_code ec) {
                       if (gen != self->generation_ || self->state_ == State::stopped) return;
                       if (ec) return self->fail(ec.message());
                       // libpq may close this socket and open another (the
                       // next address of a host) with the same number: let
                       // go of it while it is still open, watch afresh after.
                       self->unwatch_socket();
                       switch (PQconnectPoll(self->conn_)) {
                         case PGRES_POLLING_OK:
                           self->deadline_.cancel();
                           return self->subscribe();
                         case PGRES_POLLING_FAILED:
                           return self->fail(PQerrorMessage(self->conn_));
                         case PGRES_POLLING_READING:
                           return self->poll_connect(true);
                         default:
                           return self->poll_connect(false);
                       }
                     });
}

void NotifyListener::subscribe() {
  state_ = State::subscribing;
  PQsetnonblocking(conn_, 1);
  std::string sql = "LISTEN " + std::string(kChannel);
  if (!PQsendQuery(conn_, sql.c_str())) return fail(PQerrorMessage(conn_));
  // A short query: it leaves in one write unless the socket is full, and
  // then the rest goes with the next PQconsumeInput/PQflush.
  if (PQflush(conn_) < 0) return fail(PQerrorMessage(conn_));
  wait_readable();
}

void NotifyListener::wait_readable() {
  if (!watch_socket()) return fail("the connection has no socket");
  socket_.async_wait(Wait::wait_read,
                     [self = shared_from_this(), gen = generation_](boost::system::error_code ec) {
                       if (gen != self->generation_ || self->state_ == State::stopped) return;
                       if (ec) return self->fail(ec.message());
                       self->on_readable();
                     });
}

void NotifyListener::on_readable() {
  if (!PQconsumeInput(conn_) || PQstatus(conn_) != CONNECTION_OK) return fail(PQerrorMessage(conn_));
  if (PQflush(conn_) < 0) return fail(PQerrorMessage(conn_));
  bool now_listening = false;
  while (!PQisBusy(conn_)) {
    PGresult* r = PQgetResult(conn_);
    if (!r) break;
    ExecStatusType st = PQresultStatus(r);
    std::string why = st == PGRES_COMMAND_OK ? "" : PQresultErrorMessage(r);
    PQclear(r);
    if (!why.empty()) return fail(why);
    if (state_ == State::subscribing) now_listening = true;
  }
  if (now_listening) {
    state_ = State::listening;
    if (said_down_) log_info("listening to the database at " + where_ + " again");
    said_down_ = false;
    on_connected_();
  }
  uint64_t gen = generation_;
  while (PGnotify* n = PQnotifies(conn_)) {
    std::optional<Notice> notice = parse_notice(n->extra ? n->extra : "");
    PQfreemem(n);
    if (notice) on_notice_(*notice);
    if (gen != generation_ || state_ == State::stopped) return;  // a callback stopped us
  }
  wait_readable();
}

void NotifyListener::fail(const std::string& why) {
  if (state_ == State::stopped) return;
  if (!said_down_) {
    log_warning("cannot hear other nodes through the database at " + where_ + " (" + one_line(why.c_str()) +
                "); retrying every " + std::to_string(retry_delay_.count()) + " ms");
    said_down_ = true;
  }
  close();
  deadline_.cancel();
  state_ = State::idle;
  retry_.expires_after(retry_delay_);
  retry_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->state_ != State::idle) return;
    self->connect();
  });
}

}  // namespace chaton::postgres
