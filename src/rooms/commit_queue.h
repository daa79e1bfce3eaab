// CommitQueue: group commit of a room's posts.
//
// Posting threads submit() drafts; one commit thread takes everything that
// queued up while the previous batch was being written, stamps nothing new,
// and hands the whole batch to Store::append(), which makes it durable with a
// single fdatasync. So the cost of durability is paid once per batch, not
// once per post, and throughput grows with concurrency.
//
// Each draft is stamped with the clock at submit() time, strictly increasing
// (a clash is moved on by one microsecond) so entry ids stay unique and file
// order is time order.
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
// Thread-safety: submit() from any thread. Lifetime: the Store and Clock
// must outlive the queue; the destructor drains what was submitted.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "messages/post.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"

namespace chaton {

inline constexpr size_t kMaxBatchPosts = 1024;

class CommitQueue {
 public:
  using Done = std::function<void(Result<Post>)>;
  // Makes the batch visible; returns what to run once the writers are
  // answered (may be empty).
  using Publish = std::function<std::function<void()>(std::span<const Post>)>;

  CommitQueue(Store& store, const Clock& clock, Stamp last_stamp, Publish publish);
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  void submit(Post draft, Done done);

  // Runs `task` on the commit thread between two batches, so it never
  // overlaps an append (archiving uses this). Returns after it ran; runs it
  // on the caller's thread only once the commit thread has exited.
  void run_exclusive(const std::function<void()>& task);

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
  };
  void run();

  Store& store_;
  const Clock& clock_;
  Publish publish_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> queue_;
  std::vector<std::function<void()>> tasks_;
  Stamp last_stamp_;
  bool stopping_ = false;
  bool exited_ = false;  // the commit thread has returned
  std::once_flag join_once_;
  size_t batches_ = 0;
  std::thread thread_;
};

}  // namespace chaton
