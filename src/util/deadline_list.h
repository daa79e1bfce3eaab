// DeadlineList: many timers of one event loop on one underlying timer.
//
// A reader that waits (a long-poll's soft and hard timeouts, a stream's
// soft timeout) used to keep an Asio timer wait pending for its whole wait:
// an operation state per reader, allocated at each arm. A DeadlineList keeps
// the deadlines of a loop's timers in one sorted intrusive list (a
// red-black tree threaded through the timers themselves, so arming one
// allocates nothing) and keeps one timer of its own — the `driver`, from a
// TimeSource — armed at the earliest deadline. When the driver fires, the
// list runs, in deadline order (ties in the order they were armed), every
// handler then due, and arms the driver again at the next deadline.
//
// Its timers keep the Timer contract (util/time_source.h): a handler runs
// once, on the list's executor, after its delay (a delay that is not
// positive: at once, through the executor, never inside arm()); a later
// arm() replaces a pending one; a handler that was replaced or cancel()ed
// never runs, even if its time had come; destroying a timer cancels it.
// cancel() lets go of the handler at once (what it holds, often the
// timer's owner, is released there).
//
// RealTimeSource (util/time_source.h) gives each io_context one of these
// for the timers made for its executor; tests build one over a
// SimulatedTimeSource, whose driver moves only when the test says so.
//
// Thread-safety: a mutex guards the list, so timers may be armed and
// cancelled from any thread; handlers run on the driver's executor, outside
// the lock. A handler may arm, cancel or destroy any timer of the list.
// Lifetime: the list must outlive its timers; `time` must outlive the list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include <boost/intrusive/set.hpp>

#include "util/time_source.h"

namespace chaton {

class DeadlineList {
 public:
  // `driver`: the one timer the list arms, on the executor its timers' handlers run on.
  DeadlineList(TimeSource& time, std::unique_ptr<Timer> driver);
  ~DeadlineList();
  DeadlineList(const DeadlineList&) = delete;
  DeadlineList& operator=(const DeadlineList&) = delete;

  // A timer on this list.
  std::unique_ptr<Timer> make_timer();

  // Timers armed and not yet run or cancelled.
  size_t pending() const;

  // Lets go of every pending handler without running it, as an io_context
  // does with its pending operations when it shuts down: what the handlers
  // hold (often their timers' owners) is released here, while the list
  // still exists. An arm() after this lets go of its handler at once and
  // never runs it.
  void shutdown();

 private:
  // A timer of the list; its node in the list is part of it.
  class Entry final : public Timer {
   public:
    explicit Entry(DeadlineList& list) : list_(list) {}
    ~Entry() override { list_.cancel(*this); }
    void arm(MonoDuration delay, std::function<void()> handler) override {
      list_.arm(*this, delay, std::move(handler));
    }
    void cancel() override { list_.cancel(*this); }

   private:
    friend class DeadlineList;
    boost::intrusive::set_member_hook<boost::intrusive::optimize_size<true>> hook_;
    DeadlineList& list_;
    MonoTime deadline_{};
    uint64_t order_ = 0;  // among equal deadlines: the order they were armed in
    std::function<void()> handler_;
  };
  struct ByDeadline {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.deadline_ < b.deadline_ || (a.deadline_ == b.deadline_ && a.order_ < b.order_);
    }
  };
  using Set = boost::intrusive::set<
      Entry, boost::intrusive::member_hook<Entry, decltype(Entry::hook_), &Entry::hook_>,
      boost::intrusive::compare<ByDeadline>, boost::intrusive::constant_time_size<true>>;

  void arm(Entry& e, MonoDuration delay, std::function<void()> handler);
  void cancel(Entry& e);
  // Runs what is due; the driver's handler.
  void fire();
  // Arms the driver at the earliest deadline unless it fires by then. Under mu_.
  void arm_driver_locked(MonoTime now);

  TimeSource& time_;
  std::unique_ptr<Timer> driver_;
  mutable std::mutex mu_;
  Set set_;
  uint64_t arms_ = 0;  // arms so far
  bool driver_armed_ = false;
  bool shut_down_ = false;  // shutdown() was called
  MonoTime driver_at_{};  // when the driver fires, while armed
};

}  // namespace chaton
