// Exchange: one HTTP request in flight, answered exactly once — at once by
// a plain handler, or later by a blocked one (a long-poll, a post waiting
// for its fsync). The first respond() or abandon() wins; later calls are
// ignored, so a reply racing a timeout or a disconnect cannot be sent twice.
//
// Thread-safety: respond()/abandon() from any thread; they hop to the
// session's strand. Lifetime: an Exchange keeps its session alive.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http.hpp>

#include "util/log_file.h"

namespace chaton::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

class Session;

class Exchange {
 public:
  Exchange(std::shared_ptr<Session> session, Request request, std::string client_address);

  const Request& request() const { return request_; }
  const std::string& client_address() const { return client_address_; }
  boost::asio::any_io_executor executor() const;

  // Sends the response (version and keep-alive are set from the request).
  void respond(Response res);
  // Ends the connection without a response.
  void abandon();
  // Every response is logged here (method, target, status, address).
  void set_access_log(LogFile* log) { access_log_ = log; }
  // Calls `on_gone` on the session's strand if the client closes the
  // connection before the response is sent. Call at most once.
  void watch_disconnect(std::function<void()> on_gone);

 private:
  bool claim() { return !answered_.exchange(true); }

  std::shared_ptr<Session> session_;
  Request request_;
  std::string client_address_;
  std::atomic<bool> answered_{false};
  LogFile* access_log_ = nullptr;
};

using ExchangePtr = std::shared_ptr<Exchange>;

// The application side: something that takes requests.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void handle(const ExchangePtr& ex) = 0;
};

}  // namespace chaton::http
