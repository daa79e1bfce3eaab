// The fan-out: how a room wakes the readers that wait for news.
//
// A reader (a Waiter) may live on an event loop — the server runs one per
// thread (http/loop_pool.h) — and says so through loop(). wake_waiters()
// groups the readers it is given by loop and hands each loop ONE task,
// which wakes that loop's readers inline (Waiter::woken(), on the loop's
// thread), kWakeSlice of them at a time: after each slice the task puts
// itself, with the readers left, at the back of the loop's queue. So what
// was queued on a loop meanwhile — a poster's acknowledgement, a new
// request, the reads and writes of other connections — waits behind one
// slice at most, never behind the whole fan-out, and a delivery costs no
// hop from one executor to another. Each slice is a burst (util/burst.h):
// what the readers set aside while woken (a long poll's next read) runs
// after the last of the loop's readers is woken, as many at a time, so the
// readers' next requests do not hold back the replies of the readers after
// them. A reader with no loop is woken through wake(), which schedules its
// wake-up itself.
//
// Nothing here knows sockets (a WakeLoop is anything that runs tasks in
// order on one thread) or where posts come from: the room calls it after a
// batch of its own commit queue, and a store that publishes posts written
// by other nodes can call it the same way, from any thread.
//
// Thread-safety: wake_waiters() from any thread, outside every room lock.
// Lifetime: a WakeLoop must outlive the tasks posted to it and every
// WaitingReader that names it (a reader's loop is posted to even when the
// reader is gone by then); the tasks hold their readers weakly.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace chaton {

// How many readers one run of a loop's fan-out task wakes. Small: what
// waits behind a slice waits less, and the replies a slice makes before
// the loop runs their completions are fewer, which costs less CPU than
// larger slices (measured: docs/BENCHMARKS.md, "Smaller fan-out slices").
inline constexpr size_t kWakeSlice = 16;

// An event loop as the fan-out sees it.
class WakeLoop {
 public:
  virtual ~WakeLoop() = default;
  // Queues `task` to run on the loop's thread after what is queued there;
  // never runs it inline. From any thread.
  virtual void post(std::function<void()> task) = 0;
};

// A reader blocked until the room has news. It is woken either way, never
// both for one wake-up:
//   - with a loop, by the fan-out calling woken() on the loop's thread;
//   - without one, by wake(), called from any thread outside every room
//     lock, which must only schedule work (and ends in what woken() does).
// A wake-up may find the reader already ended (by its timer or a
// disconnect); the reader ignores it then.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void wake() = 0;
  virtual void woken() = 0;
  WakeLoop* loop() const { return loop_; }

 protected:
  Waiter() = default;
  explicit Waiter(WakeLoop* loop) : loop_(loop) {}

 private:
  WakeLoop* loop_ = nullptr;
};

// A waiting reader as the room holds it, and as the fan-out takes it.
struct WaitingReader {
  WaitingReader() = default;
  explicit WaitingReader(const std::shared_ptr<Waiter>& w) : waiter(w), loop(w ? w->loop() : nullptr) {}
  std::weak_ptr<Waiter> waiter;
  WakeLoop* loop = nullptr;  // waiter->loop(), read while it existed
};

// Wakes every reader of `waiting` that still exists when its turn comes
// (see above).
void wake_waiters(std::vector<WaitingReader> waiting);

}  // namespace chaton
