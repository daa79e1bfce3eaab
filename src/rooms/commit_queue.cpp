// CommitQueue: see commit_queue.h for the design.
#include "rooms/commit_queue.h"

#include <algorithm>
#include <string>

#include "util/log.h"

namespace chaton {

CommitQueue::CommitQueue(Store& store, const Clock& clock, Stamp last_stamp, Publish publish,
                         const std::vector<Stamp>& known, CommitMetrics metrics)
    : store_(store),
      clock_(clock),
      publish_(std::move(publish)),
      metrics_(std::move(metrics)),
      last_stamp_(last_stamp) {
  for (Stamp s : known) remember(s);
  thread_ = std::thread([this] { run(); });
}

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;

int64_t micros_of(Stamp s) { return s.sec * kMicrosPerSecond + s.usec; }

Stamp one_after(Stamp s) {
  if (++s.usec == kMicrosPerSecond) {
    s.usec = 0;
    ++s.sec;
  }
  return s;
}

}  // namespace

void CommitQueue::remember(Stamp s) {
  if (!known_.insert(s).second) return;
  known_order_.push_back(s);
  if (known_order_.size() > kMaxKnownStamps) {
    known_.erase(known_order_.front());
    known_order_.pop_front();
  }
}

// The stamp of the next post (docs/STORAGE.md "Post times"). Under mu_.
Stamp CommitQueue::next_stamp() {
  const Stamp now = to_stamp(clock_.now());
  Stamp s = now;
  if (s <= last_stamp_) {
    const int64_t behind = micros_of(last_stamp_) - micros_of(now);
    if (behind <= std::chrono::duration_cast<std::chrono::microseconds>(kMaxStampNudge).count()) {
      s = one_after(last_stamp_);
    } else {
      log_warning("the clock is " + std::to_string(behind / kMicrosPerSecond) +
                  " s behind the newest post's time (" + std::to_string(last_stamp_.sec) +
                  "); posts are stamped with the clock's time from now on");
    }
  }
  while (known_.contains(s)) s = one_after(s);  // unique entry ids
  last_stamp_ = s;
  remember(s);
  return s;
}

CommitQueue::~CommitQueue() { stop(); }

void CommitQueue::submit(Post draft, Done done) {
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      lock.unlock();
      metrics_.closed->add();
      done(Status(Errc::io, "the room is shutting down"));
      return;
    }
    Stamp s = next_stamp();
    draft.sec = s.sec;
    draft.usec = s.usec;
    queue_.push_back(Pending{std::move(draft), std::move(done), std::chrono::steady_clock::now()});
  }
  cv_.notify_one();
}

void CommitQueue::run_exclusive(const std::function<void()>& task) {
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;  // under done_mu: the commit thread sets it
  bool queued;        // this thread's own: decided under mu_
  {
    std::lock_guard lock(mu_);
    queued = !exited_;
    if (queued) {
      tasks_.emplace_back([&] {
        task();
        std::lock_guard l(done_mu);
        done = true;
        done_cv.notify_one();
      });
    }
  }
  if (!queued) return task();  // the commit thread has exited: nothing to overlap
  cv_.notify_one();
  std::unique_lock l(done_mu);
  done_cv.wait(l, [&] { return done; });
}

bool CommitQueue::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (exited_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void CommitQueue::observe(std::span<const Post> posts) {
  std::lock_guard lock(mu_);
  for (const Post& p : posts) {
    Stamp s{p.sec, p.usec};
    remember(s);
    last_stamp_ = std::max(last_stamp_, s);
  }
}

void CommitQueue::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  std::call_once(join_once_, [this] { thread_.join(); });
}

size_t CommitQueue::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

void CommitQueue::run() {
  std::vector<Pending> batch;
  std::vector<Post> posts;
  std::vector<std::function<void()>> tasks;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !tasks_.empty(); });
      tasks.swap(tasks_);
    }
    for (auto& t : tasks) t();
    tasks.clear();
    {
      std::unique_lock lock(mu_);
      if (queue_.empty()) {
        if (stopping_ && tasks_.empty()) {  // stopping and drained
          exited_ = true;
          return;
        }
        continue;
      }
      size_t n = std::min(queue_.size(), kMaxBatchPosts);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
    }
    posts.clear();
    for (auto& p : batch) posts.push_back(p.post);
    Status st = store_.append(posts);
    if (st) {
      std::function<void()> after = publish_(posts);
      const auto acknowledged = std::chrono::steady_clock::now();
      metrics_.stored->add(batch.size());
      for (size_t i = 0; i < batch.size(); ++i) {
        metrics_.commit_seconds->observe(acknowledged - batch[i].arrived);
        batch[i].done(posts[i]);
      }
      if (after) after();
    } else {
      metrics_.store_failures->add(batch.size());
      for (auto& p : batch) p.done(st);
    }
    batch.clear();
    std::lock_guard lock(mu_);
    ++batches_;
  }
}

}  // namespace chaton
