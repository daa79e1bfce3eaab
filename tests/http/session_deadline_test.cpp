// Tests for a session's deadline (http/session.cpp, arm_deadline) on a real
// session over loopback, its time injected (SessionLimits::time): a client
// that sends part of a request is cut once that time passes idle_timeout,
// and not before, however long the test's own clock runs; a request handed
// out and waiting for its answer (a long poll) has no deadline at all.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "http/exchange.h"
#include "http/responses.h"
#include "http/session.h"
#include "support/simulated_time.h"

namespace chaton::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kIdle = 30s;

// Keeps every request unanswered until answer() is called.
class HoldingHandler final : public Handler {
 public:
  void handle(const ExchangePtr& ex) override {
    std::lock_guard lock(mu);
    held = ex;
    arrived.set_value();
  }
  UpgradeDecision upgrade(const Request&, const std::string&) override { return {}; }
  void answer() {
    std::lock_guard lock(mu);
    held->respond(make_response(bhttp::status::ok, "text/plain", "late"));
  }

  std::mutex mu;
  ExchangePtr held;
  std::promise<void> arrived;
};

// A server on loopback whose sessions take their time from `time`, and one
// client connection to it with a receive timeout.
struct Loopback {
  explicit Loopback(testing::SimulatedTimeSource& time) {
    limits.idle_timeout = kIdle;
    limits.time = &time;
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      ASSERT_FALSE(ec) << ec.message();
      start_session(std::move(socket), handler, limits, nullptr);
    });
    server = std::thread([this] { io.run_for(20s); });
    client.connect(acceptor.local_endpoint());
    timeval tv{0, 300 * 1000};
    ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Loopback() {
    client.close();
    io.stop();
    server.join();
  }

  // What a read finds: bytes, the end of the connection, or (after the
  // receive timeout) nothing yet.
  // (recv itself: Asio's blocking read would wait past the timeout.)
  boost::system::error_code read(std::string& got) {
    std::array<char, 4096> buf;
    ssize_t n = ::recv(client.native_handle(), buf.data(), buf.size(), 0);
    if (n > 0) {
      got.append(buf.data(), static_cast<size_t>(n));
      return {};
    }
    if (n == 0) return net::error::eof;
    return {errno, boost::system::system_category()};
  }

  net::io_context io;
  // A request that waits leaves no operation pending: the loop runs on.
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor{io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  SessionLimits limits;
  HoldingHandler handler;
  std::thread server;
  net::io_context client_io;
  tcp::socket client{client_io};
};

bool still_open(const boost::system::error_code& ec) {
  return ec == net::error::would_block || ec == net::error::try_again || ec == net::error::timed_out;
}

TEST(SessionDeadline, APartRequestIsCutWhenTheInjectedTimePassesTheIdleTimeout) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  net::write(l.client, net::buffer(std::string("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")));
  std::string got;
  EXPECT_TRUE(still_open(l.read(got))) << "cut while the injected time stood still";
  time.advance(kIdle - 1s);
  EXPECT_TRUE(still_open(l.read(got))) << "cut before the idle timeout";
  time.advance(1s);
  boost::system::error_code ec;
  for (int i = 0; i < 20 && still_open(ec = l.read(got)); ++i) {
  }
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_TRUE(got.empty());
}

TEST(SessionDeadline, ARequestWaitingForItsAnswerHasNoDeadline) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  net::write(l.client, net::buffer(std::string("GET /comet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
  ASSERT_EQ(l.handler.arrived.get_future().wait_for(10s), std::future_status::ready);
  time.advance(kIdle * 10);
  std::string got;
  EXPECT_TRUE(still_open(l.read(got))) << "a waiting request was cut";
  l.handler.answer();
  boost::system::error_code ec;
  for (int i = 0; i < 20 && got.find("late") == std::string::npos; ++i) ec = l.read(got);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200")) << got.substr(0, 40) << ec.message();
  EXPECT_NE(got.find("late"), std::string::npos);
}

}  // namespace
}  // namespace chaton::http
