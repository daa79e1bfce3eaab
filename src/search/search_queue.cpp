// SearchQueue: see search_queue.h.
#include "search/search_queue.h"

#include <algorithm>

namespace chaton::search {

SearchQueue::SearchQueue(size_t max_searches, size_t max_per_address)
    : max_searches_(max_searches), max_per_address_(max_per_address) {}

SearchQueue::~SearchQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    waiting_.clear();
    for (auto& [id, flag] : running_) flag->store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SearchQueue::Submitted SearchQueue::submit(const std::string& address, Work work) {
  std::lock_guard lock(mu_);
  if (waiting_.size() + running_.size() >= max_searches_) return {Verdict::full, 0};
  size_t& mine = per_address_[address];
  if (mine >= max_per_address_) return {Verdict::too_many_from_address, 0};
  ++mine;
  Job job{next_id_++, address, std::move(work), std::make_shared<StopFlag>(false)};
  uint64_t id = job.id;
  waiting_.push_back(std::move(job));
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  cv_.notify_one();
  return {Verdict::ok, id};
}

void SearchQueue::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const Job& j) { return j.id == id; });
  if (it != waiting_.end()) {
    release(it->address);
    waiting_.erase(it);
    return;
  }
  if (auto r = running_.find(id); r != running_.end()) r->second->store(true);
}

size_t SearchQueue::size() const {
  std::lock_guard lock(mu_);
  return waiting_.size() + running_.size();
}

size_t SearchQueue::count_from(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

void SearchQueue::release(const std::string& address) {
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

void SearchQueue::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
    if (stopping_) return;
    Job job = std::move(waiting_.front());
    waiting_.pop_front();
    running_.emplace(job.id, job.cancelled);
    lock.unlock();
    job.work(*job.cancelled);
    job.work = nullptr;  // what it captured goes now, not at the next search
    lock.lock();
    running_.erase(job.id);
    release(job.address);
  }
}

}  // namespace chaton::search
