// Tests for a session's deadline (http/session.cpp, arm_deadline) on a real
// session over loopback, its time injected (SessionLimits::time): a client
// that sends part of a request is cut once that time passes idle_timeout,
// and not before, however long the test's own clock runs; a request handed
// out and waiting for its answer (a long poll) has no deadline at all.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "http/exchange.h"
#include "http/responses.h"
#include "http/session.h"
#include "support/loopback_session.h"
#include "support/simulated_time.h"

namespace chaton::http {
namespace {

namespace net = boost::asio;
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

// A session whose requests must come within kIdle.
struct Loopback : testing::LoopbackSession<HoldingHandler> {
  explicit Loopback(testing::SimulatedTimeSource& time) : LoopbackSession(time, idle_limits()) {}
  static SessionLimits idle_limits() {
    SessionLimits l;
    l.idle_timeout = kIdle;
    return l;
  }
};

bool still_open(const boost::system::error_code& ec) { return Loopback::still_open(ec); }

TEST(SessionDeadline, APartRequestIsCutWhenTheInjectedTimePassesTheIdleTimeout) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  l.send(std::string("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
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
  l.send(std::string("GET /comet HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
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
