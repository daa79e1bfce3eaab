// SearchQueue: the searches waiting for one room's search thread.
//
// A search may read the room's whole archive, so searches run one at a time
// on a thread of the room's own (started by the first search), never on the
// sessions' threads. The queue is bounded: at most `max_searches` in it in
// all (waiting or running), and at most `max_per_address` from one client
// address; submit() refuses beyond that and the caller answers 429. A search
// whose client went away is cancelled: cancel() takes it out of the queue if
// it is still waiting (its place is given back at once), or raises its stop
// flag if it is running (the scan checks the flag, see search::find(), and
// the place comes back when it has stopped). So closed connections never
// hold up the searches behind them.
//
// The queue knows nothing of HTTP: a search is a function of a StopFlag.
//
// Thread-safety: every member may be called from any thread. Lifetime: the
// destructor cancels what waits, lets the running search see its stop flag,
// and joins the thread; what a search captures must outlive the queue or be
// owned by the search.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "search/search.h"

namespace chaton::search {

inline constexpr size_t kMaxQueuedSearches = 16;     // per room, waiting or running
inline constexpr size_t kMaxSearchesPerAddress = 2;  // per room and client address

class SearchQueue {
 public:
  using Work = std::function<void(const StopFlag& cancelled)>;
  enum class Verdict { ok, full, too_many_from_address };
  struct Submitted {
    Verdict verdict = Verdict::ok;
    uint64_t id = 0;  // for cancel(); 0 when refused
  };

  SearchQueue(size_t max_searches = kMaxQueuedSearches, size_t max_per_address = kMaxSearchesPerAddress);
  ~SearchQueue();
  SearchQueue(const SearchQueue&) = delete;
  SearchQueue& operator=(const SearchQueue&) = delete;

  // Queues `work` for `address`, or says why not (then `work` is not kept).
  Submitted submit(const std::string& address, Work work);
  // Cancels search `id` (see above). Unknown or finished ids are ignored.
  void cancel(uint64_t id);

  // Searches in the queue, waiting or running.
  size_t size() const;
  // Searches `address` has in the queue.
  size_t count_from(const std::string& address) const;

 private:
  struct Job {
    uint64_t id = 0;
    std::string address;
    Work work;
    std::shared_ptr<StopFlag> cancelled;
  };

  void run();
  void release(const std::string& address);  // gives back an address's place; under mu_

  const size_t max_searches_;
  const size_t max_per_address_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> waiting_;
  std::map<uint64_t, std::shared_ptr<StopFlag>> running_;  // at most one
  std::map<std::string, size_t> per_address_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;  // started by the first submit
};

}  // namespace chaton::search
