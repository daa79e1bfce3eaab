// Exchange: one HTTP request in flight, answered exactly once — at once by
// a plain handler, or later by a blocked one (a long-poll, a post waiting
// for its fsync), or by a stream (Server-Sent Events). The first respond(),
// abandon() or start_stream() wins; later calls are ignored, so a reply
// racing a timeout or a disconnect cannot be sent twice.
//
// ResponseStream: the body of a streamed response, which start_stream()
// hands back. It holds the connection alone, so a reader that streams for
// hours keeps neither the request nor its Exchange.
//
// Thread-safety: every member of both may be called from any thread; the
// work hops to the connection's strand. Lifetime: an Exchange, and a
// ResponseStream, keeps its connection alive.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "http/connection.h"
#include "http/prepared_response.h"
#include "http/ws_channel.h"
#include "util/log_file.h"

namespace chaton::http {

class ResponseStream {
 public:
  // An empty stream: push() takes nothing, cut() does nothing.
  ResponseStream() = default;

  // Queues body bytes (a head and tail around a shared payload, see
  // StreamBytes), and runs `written` on the connection's strand once they
  // are written; false once the stream is over (the peer is gone, or it
  // was cut for falling behind), or for an empty stream. A `catch_up` push
  // is not counted against the stream's queue limit (see StreamChunk).
  bool push(StreamBytes bytes, Callback written = {}, bool catch_up = false) const;
  // Closes the connection: the stream ends (a reader that fell behind, or
  // the server stopping).
  void cut() const;

 private:
  friend class Exchange;
  explicit ResponseStream(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}

  std::shared_ptr<Connection> connection_;
};

class Exchange {
 public:
  // `client_address`: the client's, as X-Forwarded-For from a trusted proxy
  // names it; `peer_address`: the TCP peer's (empty: the same).
  Exchange(std::shared_ptr<Connection> connection, Request request, std::string client_address,
           std::string peer_address = {});

  const Request& request() const { return request_; }
  const std::string& client_address() const { return client_address_; }
  const std::string& peer_address() const { return peer_address_.empty() ? client_address_ : peer_address_; }
  boost::asio::any_io_executor executor() const { return connection_->executor(); }

  // Sends the response (version and keep-alive are set from the request).
  void respond(Response res);
  // The same, for a response prepared in pieces (http/prepared_response.h).
  void respond(PreparedResponse res);
  // Ends the connection without a response.
  void abandon();
  // Calls `on_gone` on the connection's strand if the client closes the
  // connection before the response is complete, once the request has
  // waited kDisconnectWatchDelay (http/session.h); a client gone and
  // answered before then is not reported. Call at most once.
  void watch_disconnect(Callback on_gone);

  // Starts a streamed response and returns its body, to push() bytes to
  // until it returns false (an empty stream when the request was answered
  // already). The connection closes when the stream ends, or at
  // ResponseStream::cut(). The stream needs nothing of the Exchange: a
  // handler keeps the stream and lets go of the Exchange.
  [[nodiscard]] ResponseStream start_stream(Response header);

  // Every response is logged here (address, method, target, status, bytes).
  void set_access_log(LogFile* log) { access_log_ = log; }

  // Lets go of the request's header fields and body, keeping what the
  // response needs (version, keep-alive, HEAD, and the method and target
  // for the access log): a handler that waits (a long-poll, a stream)
  // calls it once it has read what it needs from request(), whose fields
  // are empty from then on. On the thread that runs the handler.
  void release_request_fields();

 private:
  bool claim() { return !answered_.exchange(true); }
  void log(unsigned status, size_t bytes);

  std::shared_ptr<Connection> connection_;
  Request request_;
  std::string client_address_;
  std::string peer_address_;
  std::atomic<bool> answered_{false};
  bool keep_alive_;  // the request's, taken before its fields may be let go of
  LogFile* access_log_ = nullptr;
};

using ExchangePtr = std::shared_ptr<Exchange>;

// The application side: something that takes requests, and decides on
// WebSocket upgrade requests.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void handle(const ExchangePtr& ex) = 0;
  virtual UpgradeDecision upgrade(const Request& req, const std::string& client_address) = 0;
};

}  // namespace chaton::http
