// A burst: work a thread does in one go, during which follow-ups that
// would compete with it are set aside until it ends.
//
// The fan-out (rooms/fan_out.h) opens one around each slice of readers it
// wakes on a loop. A long poll woken there writes its reply at once, and
// would then start reading its client's next request; that request comes
// back within microseconds, and the loop would parse and route it before
// the next slice of readers gets its reply: every reader's reply would
// wait behind the next requests of all the readers answered before it.
// Instead the session sets its next read aside (defer()), and the fan-out
// runs what was set aside once every reader of the loop has its reply
// (docs/ARCHITECTURE.md, "A post, from request to readers"). Other work on
// the loop (a poster's acknowledgement, its next post) still runs between
// slices.
//
// A task is an owner (kept alive until it runs, or until its burst is
// destroyed unrun: a loop stopped meanwhile) and a function called with
// it: setting one aside allocates nothing but its place in the list.
//
// Thread-safety: a burst is open on one thread at a time (the one whose
// Scope opened it); in_burst() and defer() speak of the calling thread's.
// Lifetime: the list passed to a Scope must outlive the Scope.
#pragma once

#include <memory>
#include <vector>

namespace chaton {

struct BurstTask {
  std::shared_ptr<void> owner;
  void (*run)(void* owner) = nullptr;

  void operator()() const { run(owner.get()); }
};

// True while a burst is open on this thread.
[[nodiscard]] bool in_burst();

// Sets `task` aside in the burst open on this thread. Only in_burst().
void defer(BurstTask task);

// Opens a burst on this thread whose tasks set aside go to `tasks`; the
// burst open before (if any) is open again once it ends.
class BurstScope {
 public:
  explicit BurstScope(std::vector<BurstTask>& tasks);
  ~BurstScope();
  BurstScope(const BurstScope&) = delete;
  BurstScope& operator=(const BurstScope&) = delete;

 private:
  std::vector<BurstTask>* outer_;
};

}  // namespace chaton
