// Exchange: one HTTP request in flight, answered exactly once — at once by
// a plain handler, or later by a blocked one (a long-poll, a post waiting
// for its fsync), or by a stream (Server-Sent Events). The first respond(),
// abandon() or start_stream() wins; later calls are ignored, so a reply
// racing a timeout or a disconnect cannot be sent twice.
//
// Thread-safety: every member may be called from any thread; the work hops
// to the connection's strand. Lifetime: an Exchange keeps its connection
// alive.
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
  // connection before the response is complete. Call at most once.
  void watch_disconnect(std::function<void()> on_gone);

  // Starts a streamed response; then push() body bytes (a head and tail
  // around a shared payload, see StreamBytes) until it returns
  // false. The connection closes when the stream ends, or at cut_stream()
  // (a reader that fell behind). A `catch_up` push is not counted against
  // the stream's queue limit (see StreamChunk).
  void start_stream(Response header);
  bool push(StreamBytes bytes, std::function<void()> written = {}, bool catch_up = false);
  void cut_stream();

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
  std::atomic<bool> streaming_{false};
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
