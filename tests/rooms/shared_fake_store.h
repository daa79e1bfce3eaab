// SharedFakeStore: an in-memory store shared by several rooms, as the
// PostgreSQL store is shared by several nodes (store.h, "shared()").
//
// A SharedLog holds the room's posts; every SharedFakeStore over it is one
// node's view: append() numbers a batch after the log's newest post (one
// gapless sequence for all of them), read_after() reads the log, and
// change_stamp() moves when rewrites does (a moderation), and each node's
// chatters count is kept per node name.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace chaton::rooms_test {

struct SharedLog {
  std::mutex mu;
  std::vector<Post> posts;  // posts[i].seq == i + 1
  int rewrites = 0;
  std::atomic<bool> fail_reads{false};     // read_after() fails, as with the database away
  std::map<std::string, size_t> chatters;  // per node
  std::map<int64_t, std::string> cids;     // announced, with their numbering
  int announcements = 0;                   // announce_cids() calls
  // Run once, under mu, as the next open() begins (a change that lands
  // between a node's reading of the change stamp and its snapshot) or as
  // it ends (one that lands after the snapshot).
  std::function<void(SharedLog&)> before_open, after_open;
  std::atomic<bool> fail_opens{false};  // open() fails, as with the database away
  std::atomic<int> stamp_failures{0};   // the next change_stamp() calls that fail ("")
};

class SharedFakeStore final : public Store {
 public:
  SharedFakeStore(std::shared_ptr<SharedLog> log, std::string node = "a")
      : log_(std::move(log)), node_(std::move(node)) {}

  Result<StoreSnapshot> open() override {
    std::lock_guard lock(log_->mu);
    if (log_->fail_opens) return Status(Errc::unavailable, "fake store: opens fail");
    if (auto change = std::exchange(log_->before_open, nullptr)) change(*log_);
    StoreSnapshot s;
    s.recent = log_->posts;
    s.sequence = log_->posts.size();
    s.last_post = log_->posts.empty() ? 0 : log_->posts.back().sec;
    if (auto change = std::exchange(log_->after_open, nullptr)) change(*log_);
    return s;
  }
  Status append(std::span<Post> batch) override {
    std::lock_guard lock(log_->mu);
    for (Post& p : batch) {
      p.seq = log_->posts.size() + 1;
      log_->posts.push_back(p);
    }
    return Status::ok();
  }
  void record_num_chatters(size_t n) override {
    std::lock_guard lock(log_->mu);
    log_->chatters[node_] = n;
  }
  size_t chatters_elsewhere(std::chrono::seconds) override {
    std::lock_guard lock(log_->mu);
    size_t n = 0;
    for (const auto& [node, count] : log_->chatters)
      if (node != node_) n += count;
    return n;
  }
  bool shared() const override { return true; }
  Status announce_cids(std::span<const IssuedCid> cids) override {
    std::lock_guard lock(log_->mu);
    for (const IssuedCid& c : cids) log_->cids[c.cid] = c.numbering;
    ++log_->announcements;
    return Status::ok();
  }
  Result<std::optional<std::string>> cid_known(int64_t cid) override {
    std::lock_guard lock(log_->mu);
    auto it = log_->cids.find(cid);
    if (it == log_->cids.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<std::vector<Post>> read_after(uint64_t after, uint64_t through, size_t max) override {
    if (log_->fail_reads) return Status(Errc::unavailable, "fake store: reads fail");
    std::lock_guard lock(log_->mu);
    std::vector<Post> out;
    for (uint64_t s = after + 1;
         s <= log_->posts.size() && (through == 0 || s <= through) && out.size() < max; ++s)
      out.push_back(log_->posts[s - 1]);
    return out;
  }
  std::string change_stamp() override {
    std::lock_guard lock(log_->mu);
    if (log_->stamp_failures > 0) {
      --log_->stamp_failures;
      return {};
    }
    return std::to_string(log_->rewrites);
  }

 private:
  std::shared_ptr<SharedLog> log_;
  std::string node_;
};

// Another node wrote `n` posts straight into the log; returns the newest seq.
inline uint64_t write_elsewhere(SharedLog& log, size_t n, const std::string& nick = "elsewhere") {
  std::lock_guard lock(log.mu);
  for (size_t i = 0; i < n; ++i) {
    Post p;
    p.nick = nick;
    p.text = nick + " " + std::to_string(log.posts.size() + 1);
    p.sec = 1732450000 + static_cast<int64_t>(log.posts.size());
    p.seq = log.posts.size() + 1;
    log.posts.push_back(p);
  }
  return log.posts.size();
}

// A moderation elsewhere removed post `seq`: the later posts are numbered
// down by one and the change stamp moves. The caller holds log.mu.
inline void remove_post_locked(SharedLog& log, uint64_t seq) {
  log.posts.erase(log.posts.begin() + static_cast<std::ptrdiff_t>(seq - 1));
  for (size_t i = 0; i < log.posts.size(); ++i) log.posts[i].seq = i + 1;
  ++log.rewrites;
}

// The same, under the log's lock.
inline void moderate_elsewhere(SharedLog& log, uint64_t seq) {
  std::lock_guard lock(log.mu);
  remove_post_locked(log, seq);
}

}  // namespace chaton::rooms_test
