// The fan-out: see fan_out.h.
#include "rooms/fan_out.h"

#include <algorithm>
#include <utility>

#include "util/burst.h"

namespace chaton {

namespace {

// The readers of one loop not yet woken, carried from slice to slice, and
// what they set aside while they were woken (util/burst.h), run after the
// last of them.
struct LoopFanOut {
  WakeLoop* loop = nullptr;
  std::vector<std::weak_ptr<Waiter>> waiters;
  size_t next = 0;
  std::vector<BurstTask> deferred;
  size_t next_deferred = 0;
};

void run_slice(const std::shared_ptr<LoopFanOut>& f) {
  if (f->next < f->waiters.size()) {
    BurstScope burst(f->deferred);
    const size_t end = std::min(f->next + kWakeSlice, f->waiters.size());
    while (f->next < end) {
      std::weak_ptr<Waiter> w = std::move(f->waiters[f->next++]);
      if (auto reader = w.lock()) reader->woken();
    }
  } else {  // every reader is woken: what they set aside, as many at a time
    const size_t end = std::min(f->next_deferred + kWakeSlice, f->deferred.size());
    while (f->next_deferred < end) {
      BurstTask task = std::move(f->deferred[f->next_deferred++]);
      task();
    }
  }
  if (f->next < f->waiters.size() || f->next_deferred < f->deferred.size())
    f->loop->post([f] { run_slice(f); });
}

}  // namespace

void wake_waiters(std::vector<WaitingReader> waiting) {
  // A handful of loops: a linear search finds a reader's group, when it is
  // not the group of the reader before it (most often it is).
  std::vector<std::shared_ptr<LoopFanOut>> loops;
  LoopFanOut* group = nullptr;
  for (auto& r : waiting) {
    if (!r.loop) {
      if (auto reader = r.waiter.lock()) reader->wake();
      continue;
    }
    if (!group || group->loop != r.loop) {
      auto it = std::find_if(loops.begin(), loops.end(), [&r](const auto& f) { return f->loop == r.loop; });
      if (it == loops.end()) {
        it = loops.insert(loops.end(), std::make_shared<LoopFanOut>());
        (*it)->loop = r.loop;
      }
      group = it->get();
    }
    group->waiters.push_back(std::move(r.waiter));
  }
  for (auto& f : loops) f->loop->post([f] { run_slice(f); });
}

}  // namespace chaton
