// Tests for the deadline list (src/util/deadline_list.h): many timers on
// one driver timer, with simulated time (no test sleeps), and the event
// loops' lists behind RealTimeSource.
#include "util/deadline_list.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/counting_new.h"
#include "support/simulated_time.h"
#include "util/block_cache.h"

namespace chaton {
namespace {

using std::chrono::seconds;
using testing::SimulatedTimeSource;

struct DeadlineListTest : ::testing::Test {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  SimulatedTimeSource time;
  DeadlineList list{time, time.make_timer(io.get_executor())};
  std::vector<std::string> ran;

  void advance(MonoDuration d) {
    time.advance(d);
    io.poll();
    io.restart();
  }
};

TEST_F(DeadlineListTest, RunsHandlersInDeadlineOrderOnOneDriverTimer) {
  auto a = list.make_timer();
  auto b = list.make_timer();
  auto c = list.make_timer();
  a->arm(seconds(3), [&] { ran.push_back("a"); });
  b->arm(seconds(1), [&] { ran.push_back("b"); });
  c->arm(seconds(10), [&] { ran.push_back("c"); });
  EXPECT_EQ(list.pending(), 3u);
  EXPECT_EQ(time.pending_timers(), 1u);  // the driver alone waits on the time source
  advance(seconds(2));
  EXPECT_EQ(ran, std::vector<std::string>{"b"});
  advance(seconds(1));
  EXPECT_EQ(ran, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(time.pending_timers(), 1u);
  advance(seconds(6));
  EXPECT_EQ(ran.size(), 2u);
  advance(seconds(1));
  EXPECT_EQ(ran, (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(list.pending(), 0u);
  EXPECT_EQ(time.pending_timers(), 0u);  // nothing armed: the driver does not wait either
}

// A reader's timers are armed again at every round trip, each with a
// handler that keeps or watches its owner: that takes no allocation
// (util/callback.h).
TEST_F(DeadlineListTest, ArmingWithAnOwnersPointerAllocatesNothing) {
#if !defined(CHATON_COUNTS_ALLOCATIONS)
  GTEST_SKIP() << "allocations are not counted under a sanitizer";
#endif
  auto owner = std::make_shared<int>(0);
  auto first = list.make_timer();
  auto t = list.make_timer();
  first->arm(seconds(1), [] {});  // the driver is armed for this one
  const size_t before = testing::allocations;
  t->arm(seconds(2), [self = owner] { *self += 1; });
  t->arm(seconds(3), [weak = std::weak_ptr<int>(owner), raw = owner.get()] {
    if (auto self = weak.lock()) *raw += 10;
  });
  EXPECT_EQ(testing::allocations - before, 0u);
  advance(seconds(3));
  EXPECT_EQ(*owner, 10);  // the second arm replaced the first
}

// A timer is made in the thread's block cache (util/block_cache.h): one
// made after another is destroyed takes its block, not the heap's.
TEST_F(DeadlineListTest, ATimerMadeAfterOneIsDestroyedTakesItsBlock) {
#if !defined(CHATON_COUNTS_ALLOCATIONS)
  GTEST_SKIP() << "allocations are not counted under a sanitizer";
#endif
  block_cache::use_on_this_thread();  // as a loop's thread
  auto t = list.make_timer();
  const void* first = t.get();
  t.reset();
  const size_t before = testing::allocations;
  t = list.make_timer();
  EXPECT_EQ(testing::allocations, before);
  EXPECT_EQ(static_cast<const void*>(t.get()), first);
}

TEST_F(DeadlineListTest, EqualDeadlinesRunInTheOrderTheyWereArmed) {
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 5; ++i) {
    timers.push_back(list.make_timer());
    timers.back()->arm(seconds(4), [&, i] { ran.push_back(std::to_string(i)); });
  }
  advance(seconds(4));
  EXPECT_EQ(ran, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
}

TEST_F(DeadlineListTest, ACancelledOrReplacedHandlerNeverRuns) {
  auto cancelled = list.make_timer();
  auto replaced = list.make_timer();
  auto destroyed = list.make_timer();
  cancelled->arm(seconds(1), [&] { ran.push_back("cancelled"); });
  replaced->arm(seconds(1), [&] { ran.push_back("first arm"); });
  replaced->arm(seconds(2), [&] { ran.push_back("second arm"); });
  destroyed->arm(seconds(1), [&] { ran.push_back("destroyed"); });
  cancelled->cancel();
  destroyed.reset();
  EXPECT_EQ(list.pending(), 1u);
  advance(seconds(5));
  EXPECT_EQ(ran, std::vector<std::string>{"second arm"});
  cancelled->cancel();  // idempotent
}

TEST_F(DeadlineListTest, ATimerCancelledByAnEarlierHandlerOfTheSameRoundDoesNotRun) {
  auto first = list.make_timer();
  auto second = list.make_timer();
  first->arm(seconds(1), [&] {
    ran.push_back("first");
    second->cancel();
  });
  second->arm(seconds(2), [&] { ran.push_back("second"); });
  advance(seconds(3));  // both due in one round
  EXPECT_EQ(ran, std::vector<std::string>{"first"});
}

TEST_F(DeadlineListTest, AHandlerMayDestroyTimersOfTheList) {
  auto first = list.make_timer();
  auto second = list.make_timer();
  first->arm(seconds(1), [&] {
    ran.push_back("first");
    first.reset();  // itself
    second.reset();
  });
  second->arm(seconds(1), [&] { ran.push_back("second"); });
  advance(seconds(1));
  EXPECT_EQ(ran, std::vector<std::string>{"first"});
  EXPECT_EQ(list.pending(), 0u);
}

TEST_F(DeadlineListTest, ARearmFromItsHandlerCountsFromThen) {
  auto t = list.make_timer();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    t->arm(seconds(10), tick);
  };
  t->arm(seconds(10), tick);
  advance(seconds(9));
  EXPECT_EQ(ticks, 0);
  advance(seconds(1));
  EXPECT_EQ(ticks, 1);
  advance(seconds(9));
  EXPECT_EQ(ticks, 1);
  advance(seconds(1));
  EXPECT_EQ(ticks, 2);
}

TEST_F(DeadlineListTest, AZeroDelayRunsThroughTheExecutorNotInsideArm) {
  auto t = list.make_timer();
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    t->arm(MonoDuration::zero(), again);  // runs at the next round, not in this one
  };
  t->arm(MonoDuration::zero(), again);
  EXPECT_EQ(runs, 0);
  advance(MonoDuration::zero());
  EXPECT_EQ(runs, 1);
  advance(MonoDuration::zero());
  EXPECT_EQ(runs, 2);
  t->cancel();
}

TEST_F(DeadlineListTest, AnEarlierArmMovesTheDriverForward) {
  auto late = list.make_timer();
  auto early = list.make_timer();
  late->arm(seconds(30), [&] { ran.push_back("late"); });
  early->arm(seconds(2), [&] { ran.push_back("early"); });
  advance(seconds(2));
  EXPECT_EQ(ran, std::vector<std::string>{"early"});
  advance(seconds(28));
  EXPECT_EQ(ran, (std::vector<std::string>{"early", "late"}));
}

TEST_F(DeadlineListTest, CancellingTheEarliestLeavesTheOthersOnTime) {
  auto early = list.make_timer();
  auto late = list.make_timer();
  early->arm(seconds(1), [&] { ran.push_back("early"); });
  late->arm(seconds(5), [&] { ran.push_back("late"); });
  early->cancel();
  advance(seconds(1));  // the driver may fire here: nothing is due
  EXPECT_TRUE(ran.empty());
  EXPECT_EQ(list.pending(), 1u);
  advance(seconds(4));
  EXPECT_EQ(ran, std::vector<std::string>{"late"});
}

TEST_F(DeadlineListTest, CancelLetsGoOfTheHandlerAtOnce) {
  auto owned = std::make_shared<int>(1);
  std::weak_ptr<int> watch = owned;
  auto t = list.make_timer();
  t->arm(seconds(1), [owned = std::move(owned)] {});
  EXPECT_FALSE(watch.expired());
  t->cancel();
  EXPECT_TRUE(watch.expired());
}

TEST_F(DeadlineListTest, ShutdownLetsGoOfEveryHandlerAndLaterArmsNeverRun) {
  // An owner whose timer's handler keeps it alive: only letting go of the
  // handler ends it, as a session waiting on its timeout.
  struct Owner {
    std::unique_ptr<Timer> timer;
  };
  auto owner = std::make_shared<Owner>();
  std::weak_ptr<Owner> watch = owner;
  owner->timer = list.make_timer();
  owner->timer->arm(seconds(1), [owner] {});
  owner.reset();
  EXPECT_FALSE(watch.expired());
  list.shutdown();
  EXPECT_TRUE(watch.expired());  // its handler went, and with it the owner and its timer
  EXPECT_EQ(list.pending(), 0u);
  auto t = list.make_timer();
  t->arm(seconds(0), [&] { ran.push_back("after"); });
  EXPECT_EQ(list.pending(), 0u);
  advance(seconds(2));
  EXPECT_TRUE(ran.empty());
}

// A timer due after the current slot waits in the wheel (arming it sorts
// nothing), and still runs at its deadline, in deadline order with the
// others, whatever the order it was armed in.
TEST_F(DeadlineListTest, TimersDueLaterWaitUnsortedInTheWheelAndRunInDeadlineOrder) {
  using std::chrono::milliseconds;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 9; i >= 0; --i) {  // armed latest first
    timers.push_back(list.make_timer());
    timers.back()->arm(seconds(20) + milliseconds(300 * i), [&, i] { ran.push_back(std::to_string(i)); });
  }
  timers[0]->cancel();  // "9"
  EXPECT_EQ(list.pending(), 9u);
  EXPECT_EQ(list.sorted(), 0u) << "all wait in the wheel";
  EXPECT_EQ(time.pending_timers(), 1u);
  advance(seconds(20) - milliseconds(1));
  EXPECT_TRUE(ran.empty());
  advance(milliseconds(1) + milliseconds(300 * 4));
  EXPECT_EQ(ran, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  advance(seconds(5));
  EXPECT_EQ(ran, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8"}));
  EXPECT_EQ(list.pending(), 0u);
  EXPECT_EQ(time.pending_timers(), 0u);
}

// A timer too far ahead for the wheel is kept in the order; one armed
// later for the same deadline waits in the wheel; they still run in the
// order they were armed.
TEST_F(DeadlineListTest, EqualDeadlinesInTheWheelAndTheOrderRunInTheOrderTheyWereArmed) {
  const auto far = DeadlineList::kSlotLength * (DeadlineList::kWheelSlots + 10);
  auto first = list.make_timer();
  auto second = list.make_timer();
  first->arm(far, [&] { ran.push_back("first"); });
  EXPECT_EQ(list.sorted(), 1u) << "beyond the wheel";
  advance(far - seconds(30));
  second->arm(seconds(30), [&] { ran.push_back("second"); });
  EXPECT_EQ(list.sorted(), 1u) << "the second waits in the wheel";
  advance(seconds(30));
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second"}));
}

// Time may jump past many slots, more than a turn of the wheel, between
// two firings: every timer then due runs, in deadline order, once.
TEST_F(DeadlineListTest, AJumpPastTheWholeWheelRunsEverythingDueInOrder) {
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 5; ++i) {
    timers.push_back(list.make_timer());
    timers.back()->arm(seconds(100 * (5 - i)), [&, i] { ran.push_back(std::to_string(i)); });
  }
  advance(DeadlineList::kSlotLength * (3 * DeadlineList::kWheelSlots));
  EXPECT_EQ(ran, (std::vector<std::string>{"4", "3", "2", "1", "0"}));
  auto later = list.make_timer();
  later->arm(seconds(5), [&] { ran.push_back("later"); });
  advance(seconds(5));
  EXPECT_EQ(ran.back(), "later");
}

// Arming again moves a timer between the wheel and the order: only the
// last arm counts.
TEST_F(DeadlineListTest, ARearmMovesATimerBetweenTheWheelAndTheOrder) {
  using std::chrono::milliseconds;
  auto t = list.make_timer();
  t->arm(seconds(30), [&] { ran.push_back("wheel"); });
  EXPECT_EQ(list.sorted(), 0u);
  t->arm(milliseconds(100), [&] { ran.push_back("soon"); });
  EXPECT_EQ(list.sorted(), 1u);
  EXPECT_EQ(list.pending(), 1u);
  advance(milliseconds(100));
  EXPECT_EQ(ran, std::vector<std::string>{"soon"});
  t->arm(seconds(30), [&] { ran.push_back("wheel again"); });
  t->arm(seconds(40), [&] { ran.push_back("later slot"); });
  EXPECT_EQ(list.pending(), 1u);
  advance(seconds(35));
  EXPECT_EQ(ran, std::vector<std::string>{"soon"});
  advance(seconds(5));
  EXPECT_EQ(ran, (std::vector<std::string>{"soon", "later slot"}));
}

// An event loop that ends with readers still waiting: destroying it lets go
// of their handlers while its list still exists, as it does for any pending
// operation, so what they keep alive is destroyed then and not leaked.
TEST(RealTimeSourceLoopTimers, DestroyingTheLoopReleasesWhatPendingHandlersHold) {
  struct Owner {
    std::unique_ptr<Timer> timer;
  };
  std::weak_ptr<Owner> watch;
  {
    boost::asio::io_context io;
    auto owner = std::make_shared<Owner>();
    watch = owner;
    owner->timer = RealTimeSource::instance().make_timer(io.get_executor());
    owner->timer->arm(std::chrono::hours(1), [owner] {});
    owner.reset();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
}

// The server's timers: RealTimeSource puts those of an event loop on the
// loop's one list, and still runs each once, on time, and never a cancelled one.
TEST(RealTimeSourceLoopTimers, TimersOfALoopRunOnceAndCancelledOnesNever) {
  boost::asio::io_context io;
  RealTimeSource time;
  std::vector<std::string> ran;
  auto fires = time.make_timer(io.get_executor());
  auto later = time.make_timer(io.get_executor());
  auto cancelled = time.make_timer(io.get_executor());
  later->arm(std::chrono::milliseconds(2), [&] { ran.push_back("later"); });
  fires->arm(std::chrono::milliseconds(1), [&] { ran.push_back("fires"); });
  cancelled->arm(std::chrono::milliseconds(1), [&] { ran.push_back("cancelled"); });
  cancelled->cancel();
  io.run();  // returns once nothing is armed
  EXPECT_EQ(ran, (std::vector<std::string>{"fires", "later"}));
}

}  // namespace
}  // namespace chaton
