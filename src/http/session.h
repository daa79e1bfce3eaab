// Session: one client connection. It reads a request, hands it to the
// Handler as an Exchange, and reads the next only after the response is
// written (HTTP/1.0 and 1.1, keep-alive). While a response is pending it
// keeps no read outstanding, except an optional wait for readability that
// tells a blocked handler its client went away.
//
// Each session runs on its own strand and keeps itself alive with
// shared_from_this through its pending operations.
//
// Thread-safety: all members run on the strand; the public entry points
// post to it. Lifetime: the Handler must outlive every session.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/exchange.h"

namespace chaton::http {

struct SessionLimits {
  uint64_t max_body_bytes = 65536;
  uint32_t max_header_bytes = 16 * 1024;
  std::chrono::seconds idle_timeout{60};  // reading a request, writing a response
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket&& socket, Handler& handler, const SessionLimits& limits);
  void run();

  boost::asio::any_io_executor executor() { return stream_.get_executor(); }

  // Called through Exchange.
  void send(Response res, bool keep_alive, unsigned version);
  void close();
  void watch_disconnect(std::function<void()> on_gone);

 private:
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void on_write(bool keep_alive, beast::error_code ec, std::size_t bytes);
  void on_readable(beast::error_code ec);
  void reject(bhttp::status status, const char* message);
  void shutdown();

  beast::tcp_stream stream_;
  Handler& handler_;
  SessionLimits limits_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<Response> writing_;
  std::function<void()> on_gone_;
  std::string client_address_;
  bool pending_ = false;  // a request was handed out and not answered yet
  bool closed_ = false;
};

std::string client_address_of(const boost::asio::ip::tcp::socket& socket);

}  // namespace chaton::http
