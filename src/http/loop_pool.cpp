// LoopPool: see loop_pool.h.
#include "http/loop_pool.h"

#include <algorithm>
#include <thread>

#include "util/block_cache.h"

namespace chaton::http {

LoopPool::LoopPool(size_t loops) {
  loops_.reserve(std::max<size_t>(loops, 1));
  for (size_t i = 0; i < std::max<size_t>(loops, 1); ++i) loops_.push_back(std::make_unique<Loop>());
}

LoopPool::~LoopPool() {
  for (auto& l : loops_) l.reset();  // in index order: loop 0 first (see the header)
}

boost::asio::io_context& LoopPool::next() {
  return loop(next_.fetch_add(1, std::memory_order_relaxed) % loops_.size());
}

void LoopPool::run() {
  std::vector<std::thread> threads;
  threads.reserve(loops_.size() - 1);
  // Each loop's thread keeps the small blocks its round trips let go of
  // while its loop runs (util/block_cache.h).
  const auto run_caching = [this](size_t i) {
    block_cache::use_on_this_thread();
    loop(i).run();
    block_cache::stop_on_this_thread();
  };
  for (size_t i = 1; i < loops_.size(); ++i) threads.emplace_back(run_caching, i);
  run_caching(0);
  for (auto& t : threads) t.join();
}

void LoopPool::stop() {
  for (auto& l : loops_) l->context.stop();
}

}  // namespace chaton::http
