// Tests for CommitQueue: stamping posts by the clock, group commit through a
// (fake) store, publish before done, failure handling and stopping.
// Time comes from a ManualClock; threads hand over through the FakeStore's
// gate and bounded condition-variable waits only.
#include "rooms/commit_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rooms/fake_store.h"

namespace chaton {
namespace {

using rooms_test::FakeStore;
using rooms_test::kHandoverTimeout;
using std::chrono::microseconds;
using std::chrono::seconds;

Post draft(std::string text, std::string nick = "alice") {
  Post p;
  p.nick = std::move(nick);
  p.text = std::move(text);
  p.ip = "192.0.2.1";
  return p;
}

SysTime at(int64_t sec, int64_t usec) { return from_seconds(sec) + microseconds(usec); }

// Collects done() results and what publish saw, in the order they happened.
class Recorder {
 public:
  CommitQueue::Publish publisher() {
    return [this](std::span<const Post> posts) {
      std::lock_guard lock(mu_);
      published_.push_back(std::vector<Post>(posts.begin(), posts.end()));
      std::string texts;
      for (const Post& p : posts) {
        events_.push_back("publish " + p.text);
        texts += " " + p.text;
      }
      return [this, texts] {
        std::lock_guard lock(mu_);
        events_.push_back("after" + texts);
      };
    };
  }
  CommitQueue::Done done() {
    return [this](Result<Post> r) {
      std::lock_guard lock(mu_);
      if (r) events_.push_back("done " + r->text);
      results_.push_back(std::move(r));
      cv_.notify_all();
    };
  }
  bool wait_results(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kHandoverTimeout, [&] { return results_.size() >= n; });
  }
  std::vector<Result<Post>> results() const {
    std::lock_guard lock(mu_);
    return results_;
  }
  std::vector<std::vector<Post>> published() const {
    std::lock_guard lock(mu_);
    return published_;
  }
  std::vector<std::string> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Result<Post>> results_;
  std::vector<std::vector<Post>> published_;
  std::vector<std::string> events_;
};

Stamp stamp_of(const Post& p) { return Stamp{p.sec, p.usec}; }

TEST(CommitQueueStamp, PostsAreStampedByTheClock) {
  FakeStore store;
  ManualClock clock(at(1732450000, 123456));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  q.submit(draft("one"), rec.done());
  ASSERT_TRUE(rec.wait_results(1));
  clock.advance(seconds(3));
  q.submit(draft("two"), rec.done());
  q.stop();
  auto r = rec.results();
  ASSERT_EQ(r.size(), 2u);
  ASSERT_TRUE(r[0]);
  ASSERT_TRUE(r[1]);
  EXPECT_EQ(stamp_of(*r[0]), (Stamp{1732450000, 123456}));
  EXPECT_EQ(stamp_of(*r[1]), (Stamp{1732450003, 123456}));
  EXPECT_EQ(r[0]->nick, "alice");
  EXPECT_EQ(r[0]->text, "one");
  EXPECT_EQ(r[0]->ip, "192.0.2.1");
}

TEST(CommitQueueStamp, EqualReadingsGetStrictlyIncreasingStamps) {
  FakeStore store;
  ManualClock clock(at(1732450000, 999997));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  for (int i = 0; i < 5; ++i) q.submit(draft("p" + std::to_string(i)), rec.done());
  q.stop();
  auto posts = store.posts();
  ASSERT_EQ(posts.size(), 5u);
  std::vector<Stamp> got;
  for (const Post& p : posts) got.push_back(stamp_of(p));
  std::vector<Stamp> want = {
      {1732450000, 999997}, {1732450000, 999998}, {1732450000, 999999}, {1732450001, 0}, {1732450001, 1}};
  EXPECT_EQ(got, want);
}

TEST(CommitQueueStamp, CarryFromUsec999999ToTheNextSecond) {
  FakeStore store;
  ManualClock clock(at(1732450000, 999999));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  q.submit(draft("a"), rec.done());
  q.submit(draft("b"), rec.done());
  q.stop();
  auto posts = store.posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(stamp_of(posts[0]), (Stamp{1732450000, 999999}));
  EXPECT_EQ(stamp_of(posts[1]), (Stamp{1732450001, 0}));
  for (const Post& p : posts) {
    EXPECT_GE(p.usec, 0);
    EXPECT_LE(p.usec, 999999);
  }
}

TEST(CommitQueueStamp, StartsAfterTheLastStoredStamp) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));  // a moment behind what the log already has
  Recorder rec;
  CommitQueue q(store, clock, Stamp{1732450002, 999999}, rec.publisher());
  q.submit(draft("a"), rec.done());
  q.stop();
  auto posts = store.posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(stamp_of(posts[0]), (Stamp{1732450003, 0}));
}

TEST(CommitQueueStamp, AClockGoingBackAMomentStillGivesIncreasingStamps) {
  FakeStore store;
  ManualClock clock(at(1732450000, 500));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  q.submit(draft("a"), rec.done());
  clock.set(at(1732450000, 500) - kMaxStampNudge);  // as far back as a nudge goes
  q.submit(draft("b"), rec.done());
  clock.set(at(1732450005, 0));
  q.submit(draft("c"), rec.done());
  q.stop();
  auto posts = store.posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(stamp_of(posts[0]), (Stamp{1732450000, 500}));
  EXPECT_EQ(stamp_of(posts[1]), (Stamp{1732450000, 501}));
  EXPECT_EQ(stamp_of(posts[2]), (Stamp{1732450005, 0}));
}

// One line dated in the future (a clock stepped back, a hand edit) must not
// date every later post in the future: beyond kMaxStampNudge the clock's
// time is used, and the step is said once.
TEST(CommitQueueStamp, AFutureDatedLastPostDoesNotDragLaterPostsIntoTheFuture) {
  FakeStore store;
  const int64_t k2030 = 1893456000;  // 2030-01-01
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  ::testing::internal::CaptureStderr();
  CommitQueue q(store, clock, Stamp{k2030, 0}, rec.publisher());
  q.submit(draft("a"), rec.done());
  clock.advance(microseconds(10));
  q.submit(draft("b"), rec.done());
  q.stop();
  std::string err = ::testing::internal::GetCapturedStderr();
  auto posts = store.posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(stamp_of(posts[0]), (Stamp{1732450000, 0}));
  EXPECT_EQ(stamp_of(posts[1]), (Stamp{1732450000, 10}));
  EXPECT_NE(err.find("the clock is"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST(CommitQueueStamp, AClockSteppedBackFarUsesTheClocksTime) {
  FakeStore store;
  ManualClock clock(at(1732450000, 500));
  Recorder rec;
  ::testing::internal::CaptureStderr();
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  q.submit(draft("a"), rec.done());
  clock.set(at(1732449990, 0));  // ten seconds back
  q.submit(draft("b"), rec.done());
  q.submit(draft("c"), rec.done());
  q.stop();
  std::string err = ::testing::internal::GetCapturedStderr();
  auto posts = store.posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(stamp_of(posts[0]), (Stamp{1732450000, 500}));
  EXPECT_EQ(stamp_of(posts[1]), (Stamp{1732449990, 0}));
  EXPECT_EQ(stamp_of(posts[2]), (Stamp{1732449990, 1}));  // increasing again from there
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

// After a step back the clock passes again through times the live log
// already has; an entry id (sec, usec) is never given twice.
TEST(CommitQueueStamp, AfterAStepBackEntryIdsStayUnique) {
  FakeStore store;
  const Stamp earlier{1732450000, 0};  // live posts made before the clock stepped back
  const Stamp later{1732450001, 7};
  const Stamp newest{1732450100, 0};
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  ::testing::internal::CaptureStderr();
  CommitQueue q(store, clock, newest, rec.publisher(), {earlier, later, newest});
  q.submit(draft("a"), rec.done());  // the clock reads exactly `earlier`
  clock.set(at(1732450001, 7));
  q.submit(draft("b"), rec.done());  // exactly `later`
  q.stop();
  ::testing::internal::GetCapturedStderr();
  auto posts = store.posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(stamp_of(posts[0]), (Stamp{1732450000, 1}));
  EXPECT_EQ(stamp_of(posts[1]), (Stamp{1732450001, 8}));
}

TEST(CommitQueueBatch, PostsQueuedDuringAWriteAreCommittedTogether) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());

  store.block();
  q.submit(draft("first"), rec.done());
  ASSERT_TRUE(store.wait_appends_entered(1));  // the commit thread is inside append()

  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i)
        q.submit(draft("t" + std::to_string(t) + "-" + std::to_string(i)), rec.done());
    });
  }
  for (auto& w : writers) w.join();
  store.release();
  q.stop();

  constexpr size_t kPosts = 1 + kThreads * kPerThread;
  auto results = rec.results();
  ASSERT_EQ(results.size(), kPosts);
  auto batches = store.batches();
  EXPECT_LT(batches.size(), kPosts);
  ASSERT_EQ(batches.size(), 2u) << "one batch in flight, everything else queued behind it";
  EXPECT_EQ(batches[0].size(), 1u);
  EXPECT_EQ(batches[1].size(), kPosts - 1);
  EXPECT_EQ(q.batches(), 2u);

  // Every done() got its own post, stored, with a seq 1..N.
  std::map<std::string, Post> stored;
  for (const Post& p : store.posts()) stored[p.text] = p;
  ASSERT_EQ(stored.size(), kPosts);
  std::set<uint64_t> seqs;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.status().message();
    ASSERT_TRUE(stored.count(r->text)) << r->text;
    EXPECT_EQ(*r, stored[r->text]);
    seqs.insert(r->seq);
  }
  ASSERT_EQ(seqs.size(), kPosts);
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), kPosts);

  // Each writer's posts keep their order, and file order is time order.
  auto posts = store.posts();
  for (size_t i = 1; i < posts.size(); ++i) {
    EXPECT_EQ(posts[i].seq, posts[i - 1].seq + 1);
    EXPECT_LT(stamp_of(posts[i - 1]), stamp_of(posts[i]));
  }
  for (int t = 0; t < kThreads; ++t) {
    int last = -1;
    for (const Post& p : posts) {
      std::string prefix = "t" + std::to_string(t) + "-";
      if (p.text.rfind(prefix, 0) != 0) continue;
      int i = std::stoi(p.text.substr(prefix.size()));
      EXPECT_GT(i, last);
      last = i;
    }
  }
}

TEST(CommitQueueBatch, ABatchHoldsAtMostkMaxBatchPosts) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  store.block();
  q.submit(draft("first"), rec.done());
  ASSERT_TRUE(store.wait_appends_entered(1));
  const size_t queued = kMaxBatchPosts + 100;
  for (size_t i = 0; i < queued; ++i) q.submit(draft("p" + std::to_string(i)), rec.done());
  store.release();
  q.stop();
  auto batches = store.batches();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].size(), 1u);
  EXPECT_EQ(batches[1].size(), kMaxBatchPosts);
  EXPECT_EQ(batches[2].size(), 100u);
  EXPECT_EQ(rec.results().size(), queued + 1);
  EXPECT_EQ(store.posts().back().seq, queued + 1);
}

TEST(CommitQueueBatch, SeqContinuesFromTheStore) {
  FakeStore store(rooms_test::make_snapshot(3, 41));
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  q.submit(draft("a"), rec.done());
  q.submit(draft("b"), rec.done());
  q.stop();
  auto r = rec.results();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]->seq, 42u);
  EXPECT_EQ(r[1]->seq, 43u);
}

TEST(CommitQueuePublish, RunsBeforeDoneWithTheCommittedPosts) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  store.block();
  q.submit(draft("a"), rec.done());
  ASSERT_TRUE(store.wait_appends_entered(1));
  q.submit(draft("b"), rec.done());
  q.submit(draft("c"), rec.done());
  store.release();
  q.stop();

  auto events = rec.events();
  // Visible before acknowledged; readers told after the answers.
  std::vector<std::string> want = {"publish a", "done a", "after a", "publish b",
                                   "publish c", "done b", "done c",  "after b c"};
  EXPECT_EQ(events, want);

  auto published = rec.published();
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0], store.batches()[0]);
  EXPECT_EQ(published[1], store.batches()[1]);
  for (const auto& batch : published)
    for (const Post& p : batch) EXPECT_GT(p.seq, 0u) << "published with its seq";
}

TEST(CommitQueueFailure, EveryPostOfTheBatchGetsTheErrorAndNothingIsPublished) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());

  store.block();
  q.submit(draft("ok-before"), rec.done());
  ASSERT_TRUE(store.wait_appends_entered(1));
  q.submit(draft("bad1"), rec.done());
  q.submit(draft("bad2"), rec.done());
  q.submit(draft("bad3"), rec.done());
  store.fail_next_append();  // the batch of bad1..bad3
  store.release();
  ASSERT_TRUE(rec.wait_results(4));

  q.submit(draft("ok-after"), rec.done());
  q.stop();

  auto r = rec.results();
  ASSERT_EQ(r.size(), 5u);
  ASSERT_TRUE(r[0]);
  EXPECT_EQ(r[0]->seq, 1u);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_FALSE(r[i]);
    EXPECT_EQ(r[i].status().code(), Errc::io);
    EXPECT_FALSE(r[i].status().message().empty());
  }
  ASSERT_TRUE(r[4]);
  EXPECT_EQ(r[4]->text, "ok-after");
  EXPECT_EQ(r[4]->seq, 2u) << "a failed batch does not count";

  auto published = rec.published();
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0].at(0).text, "ok-before");
  EXPECT_EQ(published[1].at(0).text, "ok-after");
  for (const auto& e : rec.events()) EXPECT_EQ(e.find("bad"), std::string::npos) << e;
  EXPECT_EQ(store.posts().size(), 2u);
}

TEST(CommitQueueStop, DrainsWhatWasSubmitted) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  store.block();
  q.submit(draft("p0"), rec.done());
  ASSERT_TRUE(store.wait_appends_entered(1));
  for (int i = 1; i < 6; ++i) q.submit(draft("p" + std::to_string(i)), rec.done());
  std::thread stopper([&] { q.stop(); });
  store.release();
  stopper.join();

  auto r = rec.results();
  ASSERT_EQ(r.size(), 6u);
  for (const auto& x : r) EXPECT_TRUE(x) << x.status().message();
  EXPECT_EQ(store.posts().size(), 6u);
  EXPECT_EQ(rec.published().size(), 2u);
}

TEST(CommitQueueStop, SubmitAfterStopFailsImmediately) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  q.stop();
  bool called = false;
  Status got;
  q.submit(draft("late"), [&](Result<Post> r) {
    called = true;
    got = r.status();
    EXPECT_FALSE(r);
  });
  EXPECT_TRUE(called) << "done() runs inside submit()";
  EXPECT_EQ(got.code(), Errc::io);
  EXPECT_FALSE(got.message().empty());
  EXPECT_TRUE(store.batches().empty());
  EXPECT_TRUE(rec.published().empty());
  q.stop();  // idempotent
}

TEST(CommitQueueStop, DestructorDrains) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  {
    CommitQueue q(store, clock, Stamp{}, rec.publisher());
    for (int i = 0; i < 10; ++i) q.submit(draft("p" + std::to_string(i)), rec.done());
  }
  EXPECT_EQ(rec.results().size(), 10u);
  EXPECT_EQ(store.posts().size(), 10u);
}

TEST(CommitQueueStop, StopWithNothingSubmitted) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  q.stop();
  EXPECT_EQ(q.batches(), 0u);
  EXPECT_EQ(store.appends_entered(), 0u);
}

// ---------------------------------------------------------------- run_exclusive

TEST(CommitQueueExclusive, RunsBetweenBatchesAndReturnsAfterItRan) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  store.block();
  q.submit(draft("in flight"), rec.done());
  ASSERT_TRUE(store.wait_appends_entered(1));

  std::atomic<bool> ran{false};
  std::atomic<bool> overlapped{false};
  std::thread::id ran_on;
  std::thread archiver([&] {
    q.run_exclusive([&] {
      overlapped = store.in_append();
      ran_on = std::this_thread::get_id();
      ran = true;
    });
    EXPECT_TRUE(ran.load()) << "returns only after the task ran";
  });
  q.submit(draft("queued"), rec.done());
  store.release();
  archiver.join();
  q.stop();
  EXPECT_TRUE(ran.load());
  EXPECT_FALSE(overlapped.load()) << "the task never overlaps an append";
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(store.posts().size(), 2u);
}

TEST(CommitQueueExclusive, AfterStopRunsOnTheCallersThread) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  q.stop();
  std::thread::id ran_on;
  q.run_exclusive([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

// Once stop() has begun and while the commit thread is still draining
// (inside Store::append), the task must still wait for it: run at once on the
// caller's thread it would overlap that append (Room::archive during
// Room::close: store_->archive() beside the last append, and the window then
// trimmed by a kept_in_current count that a concurrent publish makes wrong).
TEST(CommitQueueExclusive, DoesNotOverlapTheLastAppendWhileStopping) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  Recorder rec;
  CommitQueue q(store, clock, Stamp{}, rec.publisher());
  store.block();
  q.submit(draft("in flight"), rec.done());
  ASSERT_TRUE(store.wait_appends_entered(1));
  std::thread stopper([&] { q.stop(); });

  // Hand-over: stop() has begun once a submit is refused.
  bool refused = false;
  auto deadline = std::chrono::steady_clock::now() + kHandoverTimeout;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    q.submit(draft("probe"), [&refused](Result<Post> r) {
      if (!r) refused = true;  // refusals run inside submit(), on this thread
    });
    std::this_thread::yield();
  }
  ASSERT_TRUE(refused);

  std::mutex mu;
  std::condition_variable cv;
  bool ran = false;
  bool overlapped = false;
  std::thread archiver([&] {
    q.run_exclusive([&] {
      std::lock_guard lock(mu);
      overlapped = store.in_append();
      ran = true;
      cv.notify_all();
    });
  });
  {
    // Bounded hand-over: a correct queue runs the task only after release().
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(1), [&] { return ran; });
  }
  store.release();
  archiver.join();
  stopper.join();
  EXPECT_TRUE(ran);
  EXPECT_FALSE(overlapped) << "the task ran while Store::append() was in progress";
}

// A task handed to a running commit thread runs there once, never again on
// the caller's thread: the caller learns that it ran from the commit thread,
// not from a flag it reads unlocked while that thread may be setting it (so
// the task ran twice, the second time beside the commit thread's appends,
// when the commit thread was awake and quicker than the caller). The commit
// thread is kept awake by a stream of posts (a batch's worth in flight), so
// that it takes each task without waiting to be notified. Without the fix
// this fails in some runs of a plain build and in every run under
// ThreadSanitizer (scripts/sanitize.sh thread).
TEST(CommitQueueExclusive, ATaskRunsOnceOnTheCommitThreadWhileItIsBusy) {
  FakeStore store;
  ManualClock clock(at(1732450000, 0));
  CommitQueue q(store, clock, Stamp{}, [](std::span<const Post>) { return std::function<void()>{}; });
  std::atomic<bool> posting{true};
  std::atomic<size_t> in_flight{0};  // one batch's worth: time and memory stay small
  constexpr size_t kInFlight = kMaxBatchPosts;
  std::thread poster([&] {
    while (posting) {
      if (in_flight.load() >= kInFlight) {
        std::this_thread::yield();
        continue;
      }
      ++in_flight;
      q.submit(draft("busy"), [&](Result<Post>) { --in_flight; });
    }
  });
  constexpr int kTasks = 2000;
  int runs = 0;  // written by the task only: one run at a time, by contract
  int on_caller = 0;
  const std::thread::id caller = std::this_thread::get_id();
  for (int i = 0; i < kTasks; ++i) {
    q.run_exclusive([&] {
      ++runs;
      if (std::this_thread::get_id() == caller) ++on_caller;
    });
  }
  posting = false;
  poster.join();
  q.stop();
  EXPECT_EQ(runs, kTasks);
  EXPECT_EQ(on_caller, 0) << "a task ran again on the caller's thread";
}

}  // namespace
}  // namespace chaton
