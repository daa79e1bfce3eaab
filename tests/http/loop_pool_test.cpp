// Tests for LoopPool (http/loop_pool.h): each loop runs on a thread of its
// own, always the same one; connections are handed out round robin; an idle
// pool runs until stop(), which ends run().
#include "http/loop_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>

#include "support/wait.h"

namespace chaton::http {
namespace {

namespace net = boost::asio;
using testing::wait_until;

TEST(LoopPool, NextHandsOutTheLoopsRoundRobin) {
  LoopPool pool(3);
  ASSERT_EQ(pool.size(), 3u);
  EXPECT_EQ(&pool.next(), &pool.loop(0));
  EXPECT_EQ(&pool.next(), &pool.loop(1));
  EXPECT_EQ(&pool.next(), &pool.loop(2));
  EXPECT_EQ(&pool.next(), &pool.loop(0));
}

TEST(LoopPool, AskedForNoLoopsItHasOne) {
  LoopPool pool(0);
  EXPECT_EQ(pool.size(), 1u);
}

TEST(LoopPool, EachLoopRunsOnOneThreadOfItsOwnUntilStopped) {
  constexpr size_t kLoops = 3;
  constexpr int kTasks = 50;
  LoopPool pool(kLoops);
  std::mutex mu;
  std::vector<std::set<std::thread::id>> seen(kLoops);
  std::atomic<int> done{0};
  std::atomic<int> running{0}, overlapped{0};
  // Posted before run(), from this thread: they wait for their loop.
  for (size_t i = 0; i < kLoops; ++i)
    for (int t = 0; t < kTasks; ++t)
      net::post(pool.loop(i), [&, i] {
        if (i == 0 && running.fetch_add(1) != 0) ++overlapped;  // loop 0's tasks never overlap
        {
          std::lock_guard lock(mu);
          seen[i].insert(std::this_thread::get_id());
        }
        if (i == 0) running.fetch_sub(1);
        ++done;
      });
  std::thread runner([&] { pool.run(); });
  const std::thread::id runner_id = runner.get_id();
  ASSERT_TRUE(wait_until([&] { return done == static_cast<int>(kLoops) * kTasks; }));
  pool.stop();  // the loops are idle, yet ran until now
  runner.join();

  EXPECT_EQ(overlapped, 0);
  std::set<std::thread::id> all;
  for (size_t i = 0; i < kLoops; ++i) {
    EXPECT_EQ(seen[i].size(), 1u) << "loop " << i << " ran on more than one thread";
    all.insert(seen[i].begin(), seen[i].end());
  }
  EXPECT_EQ(all.size(), kLoops);            // a thread of its own each
  EXPECT_EQ(seen[0].count(runner_id), 1u);  // loop 0 on run()'s caller
}

}  // namespace
}  // namespace chaton::http
