#include "util/adaptive_mutex.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace chaton {
namespace {

TEST(AdaptiveMutex, TryLockFailsWhileHeldAndSucceedsAfter) {
  AdaptiveMutex mu;
  std::unique_lock lock(mu);
  bool got = true;
  std::thread other([&] { got = mu.try_lock(); });
  other.join();
  EXPECT_FALSE(got);
  lock.unlock();
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
}

// Many threads incrementing a plain counter under it lose no increment.
TEST(AdaptiveMutex, ExcludesConcurrentHolders) {
  AdaptiveMutex mu;
  long counter = 0;
  constexpr int kThreads = 4, kRounds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::lock_guard lock(mu);
        long seen = counter;
        std::this_thread::yield();  // widen the window a lost update needs
        counter = seen + 1;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, long{kThreads} * kRounds);
}

// Each take counts once, from any thread; a failed try_lock() does not.
TEST(AdaptiveMutex, CountsEachAcquisition) {
  AdaptiveMutex mu;
  EXPECT_EQ(mu.acquisitions(), 0u);
  { std::lock_guard lock(mu); }
  ASSERT_TRUE(mu.try_lock());
  std::thread other([&] { EXPECT_FALSE(mu.try_lock()); });
  other.join();
  mu.unlock();
  std::thread([&] { std::lock_guard lock(mu); }).join();
  EXPECT_EQ(mu.acquisitions(), 3u);
}

}  // namespace
}  // namespace chaton
