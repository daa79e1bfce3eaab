// NotifyListener: hears the database announce posts other nodes committed
// (LISTEN chaton), on an event loop, without ever blocking it.
//
// Every commit of a PostgreSQL room notifies channel `chaton` with
// "SLUG SEQ" (pg_store.h); a moderation with "SLUG" alone; a node that gave
// a client a new cid with "SLUG +CID". The listener
// keeps one connection in LISTEN and drives it with libpq's asynchronous
// API from Asio: the connection is opened with PQconnectStart /
// PQconnectPoll and each wait for the socket to become readable or
// writable is an async_wait on it; notifications are read with
// PQconsumeInput / PQnotifies when it is readable.
//
// on_notice(notice) runs for each notification. on_connected() runs each time LISTEN is in place, the
// first time and after every reconnection: anything may have been
// committed while no one listened, so the caller has every room catch up
// (Room::store_changed). When the connection fails or drops, the listener
// says so once in the log, waits kRetryDelay and tries again, forever,
// until stop().
//
// Thread-safety: start() and stop() from any thread; the callbacks run on
// the executor's thread. Lifetime: held by a shared_ptr while it runs
// (each pending operation holds one); the callbacks' targets must outlive
// stop().
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct pg_conn;

namespace chaton::postgres {

// The channel every node listens on.
inline constexpr std::string_view kChannel = "chaton";

// "SLUG SEQ", "SLUG", "SLUG +CID" or "SLUG +CID NUMBERING": the slug, and
// the sequence or the cid when there is one, with the numbering the cid
// was given in (a change stamp, PgStore::announce_cids) when it is said.
struct Notice {
  std::string slug;
  std::optional<uint64_t> sequence;
  std::optional<int64_t> cid;
  std::string numbering;  // with a cid; empty: not said
};
std::optional<Notice> parse_notice(std::string_view payload);

class NotifyListener : public std::enable_shared_from_this<NotifyListener> {
 public:
  using OnNotice = std::function<void(const Notice&)>;
  using OnConnected = std::function<void()>;

  static constexpr std::chrono::milliseconds kRetryDelay{1000};

  NotifyListener(boost::asio::any_io_executor ex, std::string url, OnNotice on_notice,
                 OnConnected on_connected, std::chrono::milliseconds retry_delay = kRetryDelay);
  ~NotifyListener();

  void start();
  void stop();

  // True while LISTEN is in place (for tests).
  bool listening() const { return state_ == State::listening; }

 private:
  enum class State { idle, connecting, subscribing, listening, stopped };
  void connect();
  void poll_connect(bool want_read);
  void subscribe();
  void wait_readable();
  void on_readable();
  void fail(const std::string& why);
  void close();
  // Watches the connection's socket (it may change while connecting).
  bool watch_socket();
  void unwatch_socket();

  boost::asio::any_io_executor ex_;
  std::string url_;
  std::string where_;
  OnNotice on_notice_;
  OnConnected on_connected_;
  std::chrono::milliseconds retry_delay_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer retry_;
  boost::asio::steady_timer deadline_;  // of a connection being opened
  pg_conn* conn_ = nullptr;
  State state_ = State::idle;
  uint64_t generation_ = 0;  // moves with each connection; older completions are stale
  bool said_down_ = false;   // the failure is in the log already
};

}  // namespace chaton::postgres
