// CommitQueue: group commit of a room's posts.
//
// Posting threads submit() drafts; one commit thread takes everything that
// queued up while the previous batch was being written, stamps nothing new,
// and hands the whole batch to Store::append(), which makes it durable with a
// single fdatasync. So the cost of durability is paid once per batch, not
// once per post, and throughput grows with concurrency.
//
// Each draft is stamped with the clock at submit() time (docs/STORAGE.md
// "Post times"). A reading at or before the last stamp is nudged to one
// microsecond after it, so stamps increase and file order is time order, but
// only while that is within kMaxStampNudge of the clock: when the last stamp
// is further ahead (the clock stepped back, or a hand-edited line is dated in
// the future) the post takes the clock's time instead, the step is said once
// on stderr, and the stamp is still moved on past any stamp of a post the
// queue knows of (the live log it was given, and every post it stamped;
// kMaxKnownStamps at most), so entry ids stay unique.
//
// After a batch is durable, `publish` runs (on the commit thread) with the
// committed posts, then each submitter's `done` runs with its post — so a
// post is visible to readers before its writer hears "ok", and nothing is
// acknowledged that is not on disk. `publish` may return a follow-up (the
// room wakes its readers there), which runs after the `done`s: with
// thousands of readers to wake, the writers' answers are queued first. On a
// store failure every post of the batch gets the error and nothing is
// published.
//
// It counts what it does (docs/DEPLOY.md, "Monitoring"): the posts stored,
// each one's time from submit() to its acknowledgement, and the posts it
// refused (a store failure; the queue stopping).
//
// Thread-safety: submit() from any thread. Lifetime: the Store and Clock
// must outlive the queue; the destructor drains what was submitted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include "messages/post.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"

namespace chaton {

inline constexpr size_t kMaxBatchPosts = 1024;
// How far ahead of the clock a post's time may be moved to keep stamps
// increasing; beyond it the clock's time is used.
inline constexpr std::chrono::seconds kMaxStampNudge{5};
// Stamps remembered to keep entry ids unique after the clock steps back.
inline constexpr size_t kMaxKnownStamps = 20000;

// Where a CommitQueue counts (see above); its own series unless given.
struct CommitMetrics {
  std::shared_ptr<metrics::Counter> stored = std::make_shared<metrics::Counter>();
  std::shared_ptr<metrics::Histogram> commit_seconds = std::make_shared<metrics::Histogram>();
  std::shared_ptr<metrics::Counter> store_failures = std::make_shared<metrics::Counter>();
  std::shared_ptr<metrics::Counter> closed = std::make_shared<metrics::Counter>();
};

class CommitQueue {
 public:
  using Done = std::function<void(Result<Post>)>;
  // Makes the batch visible; returns what to run once the writers are
  // answered (may be empty).
  using Publish = std::function<std::function<void()>(std::span<const Post>)>;

  // `last_stamp`: the stamp of the newest line of the live log; `known`:
  // the stamps of the live log's posts (any order), which new posts avoid.
  CommitQueue(Store& store, const Clock& clock, Stamp last_stamp, Publish publish,
              const std::vector<Stamp>& known = {}, CommitMetrics metrics = {});
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  void submit(Post draft, Done done);

  // Runs `task` on the commit thread between two batches, so it never
  // overlaps an append (archiving uses this). Returns after it ran; runs it
  // on the caller's thread only once the commit thread has exited. Not
  // from the commit thread itself (a task given to post()), which would
  // wait for itself.
  void run_exclusive(const std::function<void()>& task);

  // Queues `task` for the commit thread, between two batches, and returns
  // at once; dropped once the thread has exited (then false).
  bool post(std::function<void()> task);

  // Posts another writer committed (a shared store): their stamps are
  // avoided and the next post is stamped after the newest of them, as far
  // as kMaxStampNudge allows (docs/SCALING.md, "Post times").
  void observe(std::span<const Post> posts);

  // Finishes what was submitted, then stops the thread. Idempotent, and
  // safe to call from several threads at once: every caller returns once
  // the thread has finished.
  void stop();

  // Batches written so far (for tests and the benchmark's curiosity).
  size_t batches() const;

 private:
  struct Pending {
    Post post;
    Done done;
    std::chrono::steady_clock::time_point arrived;
  };
  void run();
  Stamp next_stamp();      // under mu_
  void remember(Stamp s);  // under mu_

  Store& store_;
  const Clock& clock_;
  Publish publish_;
  CommitMetrics metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> queue_;
  std::vector<std::function<void()>> tasks_;
  Stamp last_stamp_;
  std::set<Stamp> known_;          // stamps of posts the queue knows of
  std::deque<Stamp> known_order_;  // the same, oldest first, to bound known_
  bool stopping_ = false;
  bool exited_ = false;  // the commit thread has returned
  std::once_flag join_once_;
  size_t batches_ = 0;
  std::thread thread_;
};

}  // namespace chaton
