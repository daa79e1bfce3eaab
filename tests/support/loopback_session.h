// A real HTTP session (http/session.h) on loopback for tests that drive it
// byte by byte: the server accepts one connection on a port of its own and
// serves it with `Handler` and `limits` (their time injected through
// SessionLimits::time), on a thread of its own; the test holds the client
// end, a blocking socket whose reads time out, so that "nothing yet" and
// "closed" are told apart without sleeping.
//
// serve_one() is the server's half alone, for a test that holds its own
// client (a TLS one, say).
//
// Thread-safety: the test thread uses the client; the server runs on its
// thread. Lifetime: the TimeSource must outlive the loopback.
#pragma once

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>

#include "http/session.h"
#include "support/wait.h"
#include "util/time_source.h"

namespace chaton::testing {

// When not 0, the send and receive buffers of `fd` (a test that needs a
// write to stall sets them small).
inline void set_socket_buffers(int fd, int bytes) {
  if (bytes == 0) return;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

// Accepts one connection on `acceptor` and serves it with `handler` and
// `limits` (http::start_session), over TLS when `tls` is set, its socket
// buffers as set_socket_buffers() sets them. The acceptor's io_context runs
// it; `handler` and `limits` must outlive the session.
template <class Handler>
void serve_one(boost::asio::ip::tcp::acceptor& acceptor, Handler& handler, const http::SessionLimits& limits,
               std::shared_ptr<boost::asio::ssl::context> tls = nullptr, int socket_buffer_bytes = 0) {
  acceptor.async_accept([&handler, &limits, tls = std::move(tls), socket_buffer_bytes](
                            boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
    ASSERT_FALSE(ec) << ec.message();
    set_socket_buffers(socket.native_handle(), socket_buffer_bytes);
    http::start_session(std::move(socket), handler, limits, tls);
  });
}

template <class Handler>
struct LoopbackSession {
  // `socket_buffer_bytes`: when not 0, the send and receive buffers of
  // both ends (a test that needs a write to stall sets them small).
  explicit LoopbackSession(TimeSource& time, http::SessionLimits session_limits = {},
                           int socket_buffer_bytes = 0)
      : limits(session_limits) {
    limits.time = &time;
    serve_one(acceptor, handler, limits, nullptr, socket_buffer_bytes);
    server = std::thread([this] { io.run_for(std::chrono::seconds(20)); });
    if (socket_buffer_bytes) {
      client.open(boost::asio::ip::tcp::v4());
      set_socket_buffers(client.native_handle(), socket_buffer_bytes);
    }
    client.connect(acceptor.local_endpoint());
    timeval tv{0, 300 * 1000};
    ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  // Closes the client's end and lets the session see it and end (its
  // loop then runs out of work), so that nothing it owns outlives the test
  // (a WebSocket peer and its session own each other until it ends); a
  // session still busy after kSessionEndWait is stopped with its loop.
  ~LoopbackSession() {
    client.close();
    work.reset();
    wait_until([this] { return io.stopped(); }, kSessionEndWait);
    io.stop();
    server.join();
  }
  static constexpr std::chrono::milliseconds kSessionEndWait{2000};

  void send(const std::string& bytes) { boost::asio::write(client, boost::asio::buffer(bytes)); }

  // Appends what one read finds to `got`: bytes (no error), the end of
  // the connection (eof), or, after the receive timeout, nothing yet (an
  // error still_open() accepts). recv itself: Asio's blocking read would
  // wait past the timeout.
  boost::system::error_code read(std::string& got) {
    std::array<char, 4096> buf;
    ssize_t n = ::recv(client.native_handle(), buf.data(), buf.size(), 0);
    if (n > 0) {
      got.append(buf.data(), static_cast<size_t>(n));
      return {};
    }
    if (n == 0) return boost::asio::error::eof;
    return {errno, boost::system::system_category()};
  }

  static bool still_open(const boost::system::error_code& ec) {
    return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again ||
           ec == boost::asio::error::timed_out;
  }

  boost::asio::io_context io;
  // A request that waits leaves no operation pending: the loop runs on.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  boost::asio::ip::tcp::acceptor acceptor{
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)};
  http::SessionLimits limits;
  Handler handler;
  std::thread server;
  boost::asio::io_context client_io;
  boost::asio::ip::tcp::socket client{client_io};
};

}  // namespace chaton::testing
