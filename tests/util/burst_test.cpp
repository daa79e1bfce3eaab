// Tests for bursts (src/util/burst.h): a task set aside goes to the burst
// open on the calling thread, keeps its owner alive and runs with it; a
// burst opened inside another gives the outer one back when it ends; a
// burst is open on its own thread only.
#include "util/burst.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace chaton {
namespace {

struct Counter {
  int runs = 0;
};

BurstTask count_on(const std::shared_ptr<Counter>& c) {
  return BurstTask{c, [](void* owner) { ++static_cast<Counter*>(owner)->runs; }};
}

TEST(Burst, NoneIsOpenOutsideAScope) { EXPECT_FALSE(in_burst()); }

TEST(Burst, ATaskSetAsideWaitsInItsBurstWithItsOwner) {
  std::vector<BurstTask> tasks;
  std::weak_ptr<Counter> watched;
  {
    BurstScope scope(tasks);
    ASSERT_TRUE(in_burst());
    auto counter = std::make_shared<Counter>();
    watched = counter;
    defer(count_on(counter));
  }
  EXPECT_FALSE(in_burst());
  ASSERT_EQ(tasks.size(), 1u);
  auto counter = watched.lock();
  ASSERT_TRUE(counter) << "the task keeps its owner alive";
  EXPECT_EQ(counter->runs, 0) << "set aside, not run";
  tasks[0]();
  EXPECT_EQ(counter->runs, 1);
}

TEST(Burst, AnInnerBurstGivesTheOuterOneBack) {
  std::vector<BurstTask> outer, inner;
  auto counter = std::make_shared<Counter>();
  {
    BurstScope a(outer);
    {
      BurstScope b(inner);
      defer(count_on(counter));
    }
    ASSERT_TRUE(in_burst());
    defer(count_on(counter));
  }
  EXPECT_EQ(inner.size(), 1u);
  EXPECT_EQ(outer.size(), 1u);
}

TEST(Burst, ABurstIsOpenOnItsOwnThreadOnly) {
  std::vector<BurstTask> tasks;
  BurstScope scope(tasks);
  bool elsewhere = true;
  std::thread([&elsewhere] { elsewhere = in_burst(); }).join();
  EXPECT_FALSE(elsewhere);
  EXPECT_TRUE(in_burst());
}

}  // namespace
}  // namespace chaton
