// The fan-out: see fan_out.h.
#include "rooms/fan_out.h"

#include <algorithm>
#include <utility>

namespace chaton {

namespace {

// The readers of one loop not yet woken, carried from slice to slice.
struct LoopFanOut {
  WakeLoop* loop;
  std::vector<std::shared_ptr<Waiter>> waiters;
  size_t next = 0;
};

void run_slice(const std::shared_ptr<LoopFanOut>& f) {
  const size_t end = std::min(f->next + kWakeSlice, f->waiters.size());
  while (f->next < end) {
    std::shared_ptr<Waiter> w = std::move(f->waiters[f->next++]);  // let go once woken
    w->woken();
  }
  if (f->next < f->waiters.size()) f->loop->post([f] { run_slice(f); });
}

}  // namespace

void wake_waiters(std::vector<std::shared_ptr<Waiter>> woken) {
  // A handful of loops: a linear search finds a reader's group.
  std::vector<std::shared_ptr<LoopFanOut>> loops;
  for (auto& w : woken) {
    WakeLoop* loop = w->loop();
    if (!loop) {
      w->wake();
      continue;
    }
    auto it = std::find_if(loops.begin(), loops.end(), [loop](const auto& f) { return f->loop == loop; });
    if (it == loops.end()) {
      loops.push_back(std::make_shared<LoopFanOut>(LoopFanOut{loop, {}, 0}));
      it = loops.end() - 1;
    }
    (*it)->waiters.push_back(std::move(w));
  }
  for (auto& f : loops) f->loop->post([f] { run_slice(f); });
}

}  // namespace chaton
