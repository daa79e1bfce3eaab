// Tests for SearchQueue: the bound in all and per address, cancellation of
// a waiting search (its place comes back, it never runs) and of a running
// one (its stop flag is raised). No sockets; every wait is bounded.
#include "search/search_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "support/wait.h"

namespace chaton::search {
namespace {

using namespace std::chrono_literals;
constexpr auto kBound = 10s;

using Verdict = SearchQueue::Verdict;
using testing::wait_until;

// A search that runs until it is released or cancelled, and tells when it started.
struct Blocker {
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> saw_cancel{false};

  SearchQueue::Work work() {
    return [this](const StopFlag& cancelled) {
      started.set_value();
      auto end = std::chrono::steady_clock::now() + kBound;
      while (released.wait_for(1ms) != std::future_status::ready && std::chrono::steady_clock::now() < end) {
        if (cancelled.load()) {
          saw_cancel = true;
          return;
        }
      }
    };
  }
};

TEST(SearchQueue, RefusesBeyondItsBoundInAllAndPerAddress) {
  SearchQueue q(3, 2);
  Blocker running;
  auto started = running.started.get_future();
  ASSERT_EQ(q.submit("a", running.work()).verdict, Verdict::ok);
  ASSERT_EQ(started.wait_for(kBound), std::future_status::ready);
  std::atomic<int> ran{0};
  auto counted = [&](const StopFlag&) { ++ran; };
  EXPECT_EQ(q.submit("a", counted).verdict, Verdict::ok);
  EXPECT_EQ(q.submit("a", counted).verdict, Verdict::too_many_from_address);
  EXPECT_EQ(q.count_from("a"), 2u);
  EXPECT_EQ(q.submit("b", counted).verdict, Verdict::ok);
  EXPECT_EQ(q.size(), 3u);
  auto refused = q.submit("c", counted);
  EXPECT_EQ(refused.verdict, Verdict::full);
  EXPECT_EQ(refused.id, 0u);

  running.release.set_value();
  ASSERT_TRUE(wait_until([&] { return q.size() == 0; }));
  EXPECT_EQ(ran.load(), 2) << "the refused searches never ran";
  EXPECT_EQ(q.count_from("a"), 0u);
  EXPECT_EQ(q.submit("a", counted).verdict, Verdict::ok) << "the places came back";
  ASSERT_TRUE(wait_until([&] { return ran.load() == 3; }));
}

TEST(SearchQueue, ACancelledWaitingSearchGivesItsPlaceBackAndNeverRuns) {
  SearchQueue q(2, 2);
  Blocker running;
  auto started = running.started.get_future();
  ASSERT_EQ(q.submit("a", running.work()).verdict, Verdict::ok);
  ASSERT_EQ(started.wait_for(kBound), std::future_status::ready);
  std::atomic<bool> cancelled_ran{false};
  auto waiting = q.submit("b", [&](const StopFlag&) { cancelled_ran = true; });
  ASSERT_EQ(waiting.verdict, Verdict::ok);
  EXPECT_EQ(q.submit("c", [](const StopFlag&) {}).verdict, Verdict::full);

  q.cancel(waiting.id);  // its client closed the connection
  EXPECT_EQ(q.size(), 1u) << "the place comes back at once, not after the running search";
  EXPECT_EQ(q.count_from("b"), 0u);
  std::atomic<bool> next_ran{false};
  EXPECT_EQ(q.submit("c", [&](const StopFlag&) { next_ran = true; }).verdict, Verdict::ok);

  running.release.set_value();
  ASSERT_TRUE(wait_until([&] { return next_ran.load(); }));
  ASSERT_TRUE(wait_until([&] { return q.size() == 0; }));
  EXPECT_FALSE(cancelled_ran.load());
  q.cancel(waiting.id);  // a finished or unknown id is ignored
  q.cancel(12345);
}

TEST(SearchQueue, CancellingTheRunningSearchRaisesItsStopFlag) {
  SearchQueue q;
  Blocker running;
  auto started = running.started.get_future();
  auto s = q.submit("a", running.work());
  ASSERT_EQ(started.wait_for(kBound), std::future_status::ready);
  std::atomic<bool> next_ran{false};
  ASSERT_EQ(q.submit("b", [&](const StopFlag&) { next_ran = true; }).verdict, Verdict::ok);
  q.cancel(s.id);
  // The search behind it runs without anyone releasing the first.
  ASSERT_TRUE(wait_until([&] { return next_ran.load(); }));
  EXPECT_TRUE(running.saw_cancel.load());
  ASSERT_TRUE(wait_until([&] { return q.size() == 0; }));
}

TEST(SearchQueue, DestructionCancelsWhatWaitsAndStopsTheRunningSearch) {
  Blocker running;
  std::atomic<bool> waiting_ran{false};
  {
    SearchQueue q;
    auto started = running.started.get_future();
    ASSERT_EQ(q.submit("a", running.work()).verdict, Verdict::ok);
    ASSERT_EQ(started.wait_for(kBound), std::future_status::ready);
    ASSERT_EQ(q.submit("a", [&](const StopFlag&) { waiting_ran = true; }).verdict, Verdict::ok);
  }
  EXPECT_TRUE(running.saw_cancel.load());
  EXPECT_FALSE(waiting_ran.load());
}

}  // namespace
}  // namespace chaton::search
