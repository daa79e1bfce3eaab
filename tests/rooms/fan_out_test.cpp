// Tests for the fan-out (rooms/fan_out.h): one task per event loop, not one
// per reader; readers woken in slices of kWakeSlice, the rest queued behind
// what came meanwhile; readers held weakly until their turn; and, through a
// Room, a poster's acknowledgement that waits behind one slice at most. The
// loops are FakeLoops that a test runs task by task; no sockets, no threads
// but the room's commit thread.
#include "rooms/fan_out.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "rooms/fake_store.h"
#include "rooms/room.h"
#include "rooms/room_helpers.h"
#include "support/temp_dir.h"
#include "util/burst.h"

namespace chaton {
namespace {

using rooms_test::FakeStore;
using rooms_test::kHandoverTimeout;

// A loop whose tasks run only when the test says so, one at a time.
class FakeLoop final : public WakeLoop {
 public:
  void post(std::function<void()> task) override {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  size_t queued() const {
    std::lock_guard lock(mu_);
    return tasks_.size();
  }
  bool run_one() {
    std::function<void()> task;
    {
      std::lock_guard lock(mu_);
      if (tasks_.empty()) return false;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
    return true;
  }

 private:
  mutable std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
};

// A reader on a loop: records its id in `log` when the fan-out wakes it.
class LoopWaiter final : public Waiter {
 public:
  LoopWaiter(WakeLoop* loop, std::vector<int>* log, int id) : Waiter(loop), log_(log), id_(id) {}
  void wake() override { ADD_FAILURE() << "a reader on a loop is woken by its loop's task"; }
  void woken() override { log_->push_back(id_); }

 private:
  std::vector<int>* log_;
  int id_;
};

std::vector<std::shared_ptr<Waiter>> readers_on(FakeLoop& loop, std::vector<int>& log, int n) {
  std::vector<std::shared_ptr<Waiter>> out;
  for (int i = 0; i < n; ++i) out.push_back(std::make_shared<LoopWaiter>(&loop, &log, i));
  return out;
}

// `readers` as a room hands them to the fan-out (the caller keeps them, as
// the server's connections keep theirs).
std::vector<WaitingReader> waiting(const std::vector<std::shared_ptr<Waiter>>& readers) {
  return {readers.begin(), readers.end()};
}

TEST(FanOut, PostsOneTaskPerLoopNotOnePerReader) {
  FakeLoop a, b;
  std::vector<int> log_a, log_b;
  std::vector<std::shared_ptr<Waiter>> woken;
  for (int i = 0; i < 150; ++i) {
    woken.push_back(std::make_shared<LoopWaiter>(&a, &log_a, i));
    woken.push_back(std::make_shared<LoopWaiter>(&b, &log_b, i));
  }
  auto loopless = std::make_shared<testing::CountingWaiter>();
  woken.push_back(loopless);

  wake_waiters(waiting(woken));

  EXPECT_EQ(a.queued(), 1u);
  EXPECT_EQ(b.queued(), 1u);
  EXPECT_TRUE(log_a.empty());     // nothing runs before its loop runs it
  EXPECT_EQ(loopless->wakes, 1);  // a reader without a loop schedules itself
  while (a.run_one()) {
  }
  while (b.run_one()) {
  }
  EXPECT_EQ(log_a.size(), 150u);
  EXPECT_EQ(log_b.size(), 150u);
}

TEST(FanOut, WakesALoopsReadersInSlicesInOrderRequeuingTheRest) {
  FakeLoop loop;
  std::vector<int> log;
  constexpr size_t kPart = kWakeSlice / 2 + 1;  // a last slice that is not full
  auto readers = readers_on(loop, log, static_cast<int>(2 * kWakeSlice + kPart));
  wake_waiters(waiting(readers));

  ASSERT_TRUE(loop.run_one());
  EXPECT_EQ(log.size(), kWakeSlice);
  EXPECT_EQ(loop.queued(), 1u);  // the rest, behind whatever was queued
  ASSERT_TRUE(loop.run_one());
  EXPECT_EQ(log.size(), 2 * kWakeSlice);
  ASSERT_TRUE(loop.run_one());
  EXPECT_EQ(log.size(), 2 * kWakeSlice + kPart);
  EXPECT_EQ(loop.queued(), 0u);
  for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i], static_cast<int>(i));
}

TEST(FanOut, WorkQueuedDuringTheFanOutWaitsOneSliceAtMost) {
  FakeLoop loop;
  std::vector<int> log;
  auto readers = readers_on(loop, log, 1000);
  wake_waiters(waiting(readers));
  size_t woken_before_it = 0;
  bool ran = false;
  loop.post([&] {
    woken_before_it = log.size();
    ran = true;
  });
  while (!ran && loop.run_one()) {
  }
  EXPECT_TRUE(ran);
  EXPECT_EQ(woken_before_it, kWakeSlice);
  while (loop.run_one()) {
  }
  EXPECT_EQ(log.size(), 1000u);
}

// The fan-out holds no reader: one that ends before its loop's turn (its
// timer, its client gone) is destroyed at once and skipped, and the readers
// after it are woken as before.
TEST(FanOut, KeepsNoReaderAliveAndSkipsOneGoneBeforeItsTurn) {
  FakeLoop loop;
  std::vector<int> log;
  auto readers = readers_on(loop, log, 2 * static_cast<int>(kWakeSlice));
  std::weak_ptr<Waiter> gone = readers[kWakeSlice + 1];
  wake_waiters(waiting(readers));
  ASSERT_TRUE(loop.run_one());
  EXPECT_EQ(log.size(), kWakeSlice);
  readers[kWakeSlice + 1].reset();  // ends while the rest wait for their slice
  EXPECT_TRUE(gone.expired());
  ASSERT_TRUE(loop.run_one());
  EXPECT_FALSE(loop.run_one());
  ASSERT_EQ(log.size(), 2 * kWakeSlice - 1);
  EXPECT_EQ(log[kWakeSlice], static_cast<int>(kWakeSlice));
  EXPECT_EQ(log[kWakeSlice + 1], static_cast<int>(kWakeSlice) + 2);
}

// Readers gone before the hand-over (on a loop or not) are skipped; the
// loop's task still runs, and wakes the ones that exist.
TEST(FanOut, SkipsReadersAlreadyGoneWhenHandedOver) {
  FakeLoop loop;
  std::vector<int> log;
  auto readers = readers_on(loop, log, 3);
  std::vector<WaitingReader> handed = waiting(readers);
  handed.emplace_back(std::make_shared<testing::CountingWaiter>());  // its only owner is gone already
  readers[1].reset();
  wake_waiters(std::move(handed));
  while (loop.run_one()) {
  }
  EXPECT_EQ(log, (std::vector<int>{0, 2}));
}

// A reader on a loop that sets a follow-up aside while it is woken (as a
// long poll sets its next read aside, util/burst.h): woken() logs its id,
// the follow-up its id + kLater.
constexpr int kLater = 100000;
class DeferringWaiter final : public Waiter, public std::enable_shared_from_this<DeferringWaiter> {
 public:
  DeferringWaiter(WakeLoop* loop, std::vector<int>* log, int id) : Waiter(loop), log_(log), id_(id) {}
  void wake() override { ADD_FAILURE() << "a reader on a loop is woken by its loop's task"; }
  void woken() override {
    log_->push_back(id_);
    ASSERT_TRUE(in_burst());
    defer(BurstTask{shared_from_this(), [](void* self) {
                      auto* w = static_cast<DeferringWaiter*>(self);
                      EXPECT_FALSE(in_burst()) << "a follow-up runs outside the burst";
                      w->log_->push_back(w->id_ + kLater);
                    }});
  }

 private:
  std::vector<int>* log_;
  int id_;
};

// What the readers set aside while woken runs after the last of the loop's
// readers is woken, in order, a slice at a time; work queued on the loop
// meanwhile still waits one slice at most.
TEST(FanOut, WhatReadersSetAsideRunsAfterTheLastIsWoken) {
  FakeLoop loop;
  std::vector<int> log;
  const int n = 2 * static_cast<int>(kWakeSlice) + 3;
  std::vector<std::shared_ptr<Waiter>> readers;
  for (int i = 0; i < n; ++i) readers.push_back(std::make_shared<DeferringWaiter>(&loop, &log, i));
  wake_waiters(waiting(readers));
  size_t logged_before_it = 0;
  loop.post([&] { logged_before_it = log.size(); });
  int tasks = 0;
  while (loop.run_one()) ++tasks;
  EXPECT_EQ(logged_before_it, kWakeSlice) << "queued work waits one slice at most";
  ASSERT_EQ(log.size(), 2u * n);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(log[i], i) << "every reader is woken first";
    EXPECT_EQ(log[n + i], i + kLater) << "then what they set aside, in order";
  }
  // Three slices of readers, three of follow-ups, and the task queued meanwhile.
  EXPECT_EQ(tasks, 7);
  EXPECT_FALSE(in_burst());
}

// Through a Room: the commit queue answers the writers before it runs the
// fan-out, so on a loop a post's acknowledgement comes before its readers
// are woken, and the acknowledgement of a later post waits behind one slice
// of the earlier fan-out, not behind all of it.
TEST(FanOutRoom, AnAcknowledgementWaitsBehindOneSliceAtMost) {
  testing::TempDir dir;
  RoomSettings settings = testing::lobby_settings(true);
  settings.config.data_dir = dir.path().string();
  ManualClock clock{from_seconds(1732460000)};
  Room room(settings, std::make_unique<FakeStore>(StoreSnapshot{}), clock);
  ASSERT_TRUE(room.open(nullptr));

  FakeLoop loop;
  std::vector<int> log;
  auto readers = readers_on(loop, log, 1000);
  for (auto& r : readers) ASSERT_TRUE(room.wait(room.allocate_cid(), 0, r));
  // (`readers` keeps them: the room holds them weakly, as the server's
  // connections keep theirs.)

  // Posts and, on the commit thread, queues the post's acknowledgement on
  // the loop (as Exchange::respond() does); returns once the room settled.
  std::vector<size_t> woken_at_ack;
  auto post_acknowledged_on_loop = [&](std::string_view text) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    room.post("ann", text, "192.0.2.1", [&](Result<Post> r) {
      EXPECT_TRUE(r);
      loop.post([&] { woken_at_ack.push_back(log.size()); });
      std::lock_guard lock(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kHandoverTimeout, [&] { return done; }));
    lock.unlock();
    room.settle();
  };
  post_acknowledged_on_loop("first");
  post_acknowledged_on_loop("second");  // its readers are still being woken

  while (loop.run_one()) {
  }
  ASSERT_EQ(woken_at_ack.size(), 2u);
  EXPECT_EQ(woken_at_ack[0], 0u);  // the writer hears first
  EXPECT_LE(woken_at_ack[1], kWakeSlice);
  EXPECT_EQ(log.size(), 1000u);
}

}  // namespace
}  // namespace chaton
