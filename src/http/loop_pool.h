// LoopPool: the server's event loops, one io_context per thread (the way
// nginx runs one event loop per worker).
//
// Each loop is an io_context run by exactly one thread (run() starts them),
// so whatever is bound to a loop's executor — a connection, its timers, the
// readers waiting on it — runs on that one thread and needs no strand: the
// handlers of one loop never run concurrently, and a handler may call
// another object of its loop directly. The listener hands each accepted
// connection to the next loop, round robin (next()). An idle loop keeps
// running (a work guard) until stop().
//
// Each io_context is made with a concurrency hint of 1, which lets Asio
// queue what a loop posts to itself without a lock; posting from other
// threads (the commit threads, the blocking pools) stays safe.
//
// Thread-safety: loop(), size(), next() and stop() from any thread; run()
// once, from one thread, which runs loop 0 itself and returns once every
// loop has stopped.
// Lifetime: every object bound to a loop must go before the pool. The
// destructor destroys loop 0 (the listener's, whose finished accepts may
// hold sockets of other loops) first, then the others in order.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace chaton::http {

class LoopPool {
 public:
  // `loops` event loops (at least one).
  explicit LoopPool(size_t loops);
  ~LoopPool();
  LoopPool(const LoopPool&) = delete;
  LoopPool& operator=(const LoopPool&) = delete;

  size_t size() const { return loops_.size(); }
  boost::asio::io_context& loop(size_t i) { return loops_[i]->context; }
  // The loop for the next connection (round robin).
  boost::asio::io_context& next();

  // Runs every loop, each on a thread of its own (loop 0 on the caller's),
  // until stop(); then joins them. Each thread caches freed small blocks
  // while its loop runs (util/block_cache.h), the caller's thread too, and
  // no longer once its loop has returned.
  void run();
  // Stops every loop; what is still queued on them is not run.
  void stop();

 private:
  struct Loop {
    boost::asio::io_context context{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{context.get_executor()};
  };
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<size_t> next_{0};
};

}  // namespace chaton::http
