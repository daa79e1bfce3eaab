// Tests for the time source (src/util/time_source.h): the random timeouts,
// the real timers (cancelled ones never run), and the simulated time source
// the other modules' tests use (tests/support/simulated_time.h).
#include "util/time_source.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/simulated_time.h"

namespace chaton {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::SimulatedTimeSource;

TEST(RandomBetween, StaysInTheRangeAndCoversIt) {
  SimulatedTimeSource time;
  const MonoDuration lo = seconds(15), hi = seconds(30);
  bool low_half = false, high_half = false;
  for (int i = 0; i < 1000; ++i) {
    MonoDuration d = random_between(time, lo, hi);
    ASSERT_GE(d, lo);
    ASSERT_LE(d, hi);
    (d < (lo + hi) / 2 ? low_half : high_half) = true;
  }
  EXPECT_TRUE(low_half && high_half);
}

TEST(RandomBetween, AnEmptyOrInvertedRangeGivesItsLowEnd) {
  SimulatedTimeSource time;
  EXPECT_EQ(random_between(time, seconds(20), seconds(20)), seconds(20));
  EXPECT_EQ(random_between(time, seconds(20), seconds(10)), seconds(20));
}

TEST(SecondsAsDuration, KeepsFractions) {
  EXPECT_EQ(seconds_as_duration(1.5), milliseconds(1500));
  EXPECT_EQ(seconds_as_duration(0.001), milliseconds(1));
}

TEST(RealTimeSource, TheWallClockIsTheOneItWasGiven) {
  ManualClock wall(from_seconds(1732460000));
  RealTimeSource time(wall);
  EXPECT_EQ(time.system_now(), from_seconds(1732460000));
  EXPECT_EQ(time.now(), from_seconds(1732460000));
}

TEST(RealTimeSource, ATimerRunsItsHandlerOnceAndACancelledOneNever) {
  boost::asio::io_context io;
  RealTimeSource time;
  std::vector<std::string> ran;
  auto fires = time.make_timer(io.get_executor());
  auto cancelled = time.make_timer(io.get_executor());
  auto replaced = time.make_timer(io.get_executor());
  fires->arm(milliseconds(1), [&] { ran.push_back("fires"); });
  cancelled->arm(milliseconds(1), [&] { ran.push_back("cancelled"); });
  cancelled->cancel();
  replaced->arm(milliseconds(1), [&] { ran.push_back("first arm"); });
  replaced->arm(milliseconds(2), [&] { ran.push_back("second arm"); });
  io.run();  // returns once no timer is pending
  EXPECT_EQ(ran, (std::vector<std::string>{"fires", "second arm"}));
}

// Two timers due together: their handlers are queued together, and the
// first to run cancels (or destroys) the other, which then must not run
// although its wait had completed.
TEST(RealTimeSource, ACancelAfterTheDeadlineStillWins) {
  boost::asio::io_context io;
  RealTimeSource time;
  int ran = 0;
  std::unique_ptr<Timer> a = time.make_timer(io.get_executor());
  std::unique_ptr<Timer> b = time.make_timer(io.get_executor());
  a->arm(MonoDuration::zero(), [&] {
    ++ran;
    b->cancel();
  });
  b->arm(MonoDuration::zero(), [&] {
    ++ran;
    a.reset();
  });
  io.run();
  EXPECT_EQ(ran, 1);
}

TEST(SimulatedTimeSource, AdvanceMovesBothClocks) {
  SimulatedTimeSource time(from_seconds(1000));
  MonoTime m0 = time.monotonic_now();
  time.advance(seconds(5));
  EXPECT_EQ(time.system_now(), from_seconds(1005));
  EXPECT_EQ(time.monotonic_now() - m0, seconds(5));
  time.set_system_time(from_seconds(50));  // a wall clock jump
  EXPECT_EQ(time.now(), from_seconds(50));
  EXPECT_EQ(time.monotonic_now() - m0, seconds(5));
}

TEST(SimulatedTimeSource, DueTimersRunInDeadlineOrderWhenTheTestPolls) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);  // poll() keeps working
  SimulatedTimeSource time;
  std::vector<std::string> ran;
  auto a = time.make_timer(io.get_executor());
  auto b = time.make_timer(io.get_executor());
  auto c = time.make_timer(io.get_executor());
  a->arm(seconds(3), [&] { ran.push_back("a"); });
  b->arm(seconds(1), [&] { ran.push_back("b"); });
  c->arm(seconds(10), [&] { ran.push_back("c"); });
  time.advance(seconds(2));
  EXPECT_TRUE(ran.empty()) << "handlers run on their executor, not in advance()";
  io.poll();
  EXPECT_EQ(ran, std::vector<std::string>{"b"});
  time.advance(seconds(5));
  io.poll();
  EXPECT_EQ(ran, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(time.pending_timers(), 1u);
}

TEST(SimulatedTimeSource, CancelAndReArmWin) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);  // poll() keeps working
  SimulatedTimeSource time;
  std::vector<std::string> ran;
  auto t = time.make_timer(io.get_executor());
  auto u = time.make_timer(io.get_executor());
  t->arm(seconds(1), [&] { ran.push_back("t first"); });
  t->arm(seconds(4), [&] { ran.push_back("t second"); });
  u->arm(seconds(1), [&] { ran.push_back("u"); });
  time.advance(seconds(2));
  u->cancel();  // its handler is posted already: it must not run
  io.poll();
  EXPECT_TRUE(ran.empty());
  time.advance(seconds(2));
  io.poll();
  EXPECT_EQ(ran, std::vector<std::string>{"t second"});
}

TEST(SimulatedTimeSource, AHandlerThatReArmsFiresAtALaterAdvance) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);  // poll() keeps working
  SimulatedTimeSource time;
  int ticks = 0;
  auto t = time.make_timer(io.get_executor());
  std::function<void()> tick = [&] {
    ++ticks;
    t->arm(seconds(10), tick);
  };
  t->arm(seconds(10), tick);
  time.advance(seconds(25));
  io.poll();
  EXPECT_EQ(ticks, 1);
  time.advance(seconds(10));
  io.poll();
  EXPECT_EQ(ticks, 2);
}

TEST(SimulatedTimeSource, TheSameSeedGivesTheSameDraws) {
  SimulatedTimeSource a, b;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.random_bits(), b.random_bits());
}

}  // namespace
}  // namespace chaton
