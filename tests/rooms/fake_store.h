// FakeStore: an in-memory Store for the rooms tests.
//
// - open() returns a copy of the snapshot it was built with (or fails once
//   when told to).
// - append() numbers the batch like the real store (sequence+1, ...),
//   records a copy of every committed batch, and can be told to fail the
//   next append (Errc::io, nothing of that batch counts) or to hold every
//   append until release() (so the commit queue builds up a batch meanwhile).
// - record_num_chatters() calls are recorded.
// - writable() says what set_writable() last set (ok at first).
// - advance_sequence() plays another writer of the same data (the original
//   tools beside us): the next post gets a seq further on.
// - rewrite() plays a moderation by another process: open() returns the new
//   snapshot from then on, appends continue from its sequence, and
//   change_stamp() moves.
//
// Thread-safety: every member may be called from any thread; append() runs
// on the commit thread while the test inspects the store from its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "messages/post.h"
#include "store/store.h"
#include "util/result.h"

namespace chaton::rooms_test {

// How long a test lets another thread take to hand over before giving up.
inline constexpr std::chrono::seconds kHandoverTimeout{5};

// `n` posts numbered so the last one's seq is `sequence` (like the real
// store's live log), one second apart from `first_sec`, alternating nicks.
inline StoreSnapshot make_snapshot(size_t n, uint64_t sequence, int64_t first_sec = 1732450000) {
  StoreSnapshot s;
  s.sequence = sequence;
  s.recent.reserve(n);
  uint64_t seq = sequence - n;
  for (size_t i = 0; i < n; ++i) {
    Post p;
    p.nick = (i % 2 == 0) ? "alice" : "bob";
    p.sec = first_sec + static_cast<int64_t>(i);
    p.usec = static_cast<int64_t>(i % 1000);
    p.text = "post " + std::to_string(seq + 1);
    p.ip = "192.0.2.1";
    p.seq = ++seq;
    s.recent.push_back(std::move(p));
  }
  s.last_post = s.recent.empty() ? 0 : s.recent.back().sec;
  return s;
}

class FakeStore final : public Store {
 public:
  explicit FakeStore(StoreSnapshot initial = {})
      : initial_(std::move(initial)), sequence_(initial_.sequence) {}

  // --- Store
  Result<StoreSnapshot> open() override {
    std::lock_guard lock(mu_);
    ++opens_;
    if (fail_open_) {
      fail_open_ = false;
      return Status(Errc::io, "fake store: open failed");
    }
    return initial_;
  }

  Status append(std::span<Post> batch) override {
    std::unique_lock lock(mu_);
    ++appends_entered_;
    in_append_ = true;
    struct Leave {
      bool& flag;
      ~Leave() { flag = false; }
    } leave{in_append_};
    bool fail = fail_next_;
    fail_next_ = false;
    cv_.notify_all();
    // Held until release(); bounded so a broken test cannot hang the run.
    cv_.wait_for(lock, kHandoverTimeout, [&] { return !blocked_; });
    if (fail) return Status(Errc::io, "fake store: append failed");
    for (Post& p : batch) p.seq = ++sequence_;
    if (!batch.empty()) last_post_ = batch.back().sec;
    batches_.emplace_back(batch.begin(), batch.end());
    cv_.notify_all();
    return Status::ok();
  }

  void record_num_chatters(size_t n) override {
    std::lock_guard lock(mu_);
    chatters_.push_back(n);
  }

  std::string change_stamp() override {
    std::lock_guard lock(mu_);
    return std::to_string(rewrites_);
  }

  Status writable() override {
    std::lock_guard lock(mu_);
    return writable_;
  }

  // --- control
  void set_writable(Status st) {
    std::lock_guard lock(mu_);
    writable_ = std::move(st);
  }
  // The next append() fails with Errc::io (decided when it starts).
  void fail_next_append() {
    std::lock_guard lock(mu_);
    fail_next_ = true;
  }
  void fail_next_open() {
    std::lock_guard lock(mu_);
    fail_open_ = true;
  }
  // Every append() from now on waits (after it has started) until release().
  void block() {
    std::lock_guard lock(mu_);
    blocked_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      blocked_ = false;
    }
    cv_.notify_all();
  }
  // Another process rewrote the posts: `snap` is what the store holds now.
  void rewrite(StoreSnapshot snap) {
    std::lock_guard lock(mu_);
    initial_ = std::move(snap);
    sequence_ = initial_.sequence;
    ++rewrites_;
  }
  // Another writer stored `n` posts meanwhile.
  void advance_sequence(uint64_t n) {
    std::lock_guard lock(mu_);
    sequence_ += n;
  }

  // True once `n` appends have started (bounded wait).
  bool wait_appends_entered(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kHandoverTimeout, [&] { return appends_entered_ >= n; });
  }

  // --- inspection
  std::vector<std::vector<Post>> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::vector<Post> posts() const {
    std::lock_guard lock(mu_);
    std::vector<Post> all;
    for (const auto& b : batches_) all.insert(all.end(), b.begin(), b.end());
    return all;
  }
  size_t appends_entered() const {
    std::lock_guard lock(mu_);
    return appends_entered_;
  }
  // True while an append() is in progress (e.g. held by block()).
  bool in_append() const {
    std::lock_guard lock(mu_);
    return in_append_;
  }
  uint64_t sequence() const {
    std::lock_guard lock(mu_);
    return sequence_;
  }
  int64_t last_post() const {
    std::lock_guard lock(mu_);
    return last_post_;
  }
  std::vector<size_t> chatters_records() const {
    std::lock_guard lock(mu_);
    return chatters_;
  }
  int opens() const {
    std::lock_guard lock(mu_);
    return opens_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  StoreSnapshot initial_;
  uint64_t sequence_ = 0;
  int64_t last_post_ = 0;
  bool fail_next_ = false;
  bool fail_open_ = false;
  bool blocked_ = false;
  bool in_append_ = false;
  size_t appends_entered_ = 0;
  int opens_ = 0;
  int rewrites_ = 0;
  std::vector<std::vector<Post>> batches_;
  std::vector<size_t> chatters_;
  Status writable_;
};

}  // namespace chaton::rooms_test
