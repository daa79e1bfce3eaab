// FakeConnection: an http::Connection without a socket, for tests of what
// answers a request (long-poll, Server-Sent Events) — it records what it is
// asked to send, and the test plays the client going away (disconnect())
// and the socket finishing its writes (finish_writes()).
//
//   auto conn = std::make_shared<FakeConnection>(io.get_executor());
//   ExchangePtr ex = conn->exchange("/lobby/comet?p=0&s=0");
//   ... hand `ex` to a handler, then io.poll() (Exchange hops to the
//   connection's executor) and look at conn->responses.
//
// Thread-safety: none; the test and the handlers share the executor's thread.
#pragma once

#include <functional>
#include <stdexcept>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/connection.h"
#include "http/exchange.h"
#include "http/prepared_response.h"

namespace chaton::testing {

class FakeConnection final : public http::Connection, public std::enable_shared_from_this<FakeConnection> {
 public:
  explicit FakeConnection(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // A GET of `target` from `address` on this connection, whose TCP peer is
  // `peer` (empty: `address` too).
  http::ExchangePtr exchange(std::string_view target, std::string address = "192.0.2.1",
                             std::string peer = {}) {
    http::Request req{http::bhttp::verb::get, target, 11};
    return std::make_shared<http::Exchange>(shared_from_this(), std::move(req), std::move(address),
                                            std::move(peer));
  }

  // The client closes the connection: the disconnect watcher runs (once),
  // and the writes not done are dropped, their callbacks not run, as a
  // session's queue drops them when its socket fails (http/write_queue.h).
  // (A callback owns its reader, which owns this connection.)
  void disconnect() {
    auto f = std::move(on_gone_);
    on_gone_ = nullptr;
    if (f) f();
    auto dropped = std::move(unwritten_);
    unwritten_.clear();
  }
  // Completes every stream write handed over so far.
  void finish_writes() {
    auto done = std::move(unwritten_);
    unwritten_.clear();
    for (auto& f : done)
      if (f) f();
  }
  bool watched() const { return static_cast<bool>(on_gone_); }

  std::vector<http::Response> responses;  // plain responses sent
  int closes = 0;                         // close() calls (abandon, cut_stream)
  bool streaming = false;                 // start_stream() came
  std::vector<std::string> chunks;        // stream bytes pushed, in order
  std::vector<http::StreamBytes> pieces;  // the same, as pushed (head, shared payload, tail)

  boost::asio::any_io_executor executor() override { return executor_; }
  // A reply, or a close, ends the request's disconnect watch, as on a
  // session (http/session.cpp): the watcher owns the request's handler.
  void send(http::Response res, bool, unsigned, bool) override {
    on_gone_ = nullptr;
    responses.push_back(std::move(res));
  }
  // A prepared response is recorded as the Response its bytes parse to.
  void send(http::PreparedResponse res, bool keep_alive, unsigned version, bool head_only) override {
    http::PreparedWrite w(std::move(res), version, keep_alive, head_only);
    http::bhttp::response_parser<http::bhttp::string_body> parser;
    parser.eager(true);
    if (head_only) parser.skip(true);
    std::string bytes;
    for (const auto& b : w.buffers()) bytes.append(static_cast<const char*>(b.data()), b.size());
    boost::beast::error_code ec;
    size_t used = parser.put(boost::asio::buffer(bytes), ec);
    if (used != bytes.size()) ec = http::bhttp::error::unexpected_body;
    if (ec || !parser.is_done()) throw std::runtime_error("a prepared response that does not parse");
    on_gone_ = nullptr;
    responses.push_back(parser.release());
  }
  void close() override {
    on_gone_ = nullptr;
    ++closes;
  }
  void watch_disconnect(Callback on_gone) override { on_gone_ = std::move(on_gone); }
  void start_stream(http::Response, unsigned) override { streaming = true; }
  bool push(http::StreamChunk chunk) override {
    if (closes > 0) return false;
    chunks.push_back(chunk.bytes.joined());
    pieces.push_back(chunk.bytes);
    unwritten_.push_back(std::move(chunk.written));
    return true;
  }

 private:
  boost::asio::any_io_executor executor_;
  Callback on_gone_;
  std::vector<Callback> unwritten_;
};

}  // namespace chaton::testing
