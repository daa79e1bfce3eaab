// DeadlineList: many timers of one event loop on one underlying timer.
//
// A reader that waits (a long-poll's soft and hard timeouts, a stream's
// soft timeout) used to keep an Asio timer wait pending for its whole wait:
// an operation state per reader, allocated at each arm. A DeadlineList keeps
// the deadlines of a loop's timers itself, threaded through the timers (so
// arming one allocates nothing), and keeps one timer of its own — the
// `driver`, from a TimeSource — armed at the earliest time it must look.
// When the driver fires, the list runs, in deadline order (ties in the
// order they were armed), every handler then due, and arms the driver
// again.
//
// Two places hold the deadlines, like a timing wheel in front of a sorted
// list:
//   - the wheel: kWheelSlots slots of kSlotLength each, one unsorted list
//     per slot. A timer due after the current slot is put in the slot of its
//     deadline: arming and cancelling it are O(1). Most of a loop's timers
//     are readers' timeouts of many seconds that a post cancels long before
//     they are due, with thousands of readers per loop.
//   - the order: a red-black tree sorted by deadline (then arming order),
//     for the timers due within the current slot and those too far ahead
//     for the wheel.
// When time reaches a slot (the driver is armed at its start if it holds
// timers), its timers are moved to the order, so every timer due by now
// is there, sorted, before any handler runs: the order in which handlers
// run does not depend on where a timer waited.
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

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>

#include "util/block_cache.h"
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
  // Of those, how many are kept sorted now (the rest wait in the wheel);
  // lets a test see where arming puts a timer.
  size_t sorted() const;

  // The wheel's geometry: a timer due within this span waits in the wheel.
  static constexpr MonoDuration kSlotLength = std::chrono::seconds(1);
  static constexpr size_t kWheelSlots = 512;

  // Lets go of every pending handler without running it, as an io_context
  // does with its pending operations when it shuts down: what the handlers
  // hold (often their timers' owners) is released here, while the list
  // still exists. An arm() after this lets go of its handler at once and
  // never runs it.
  void shutdown();

 private:
  // A timer of the list; its node in the list is part of it.
  // Made in the thread's block cache (util/block_cache.h): a long poll's
  // timer is let go of and made again by every reader of a fan-out.
  class Entry final : public Timer, public CachedNew {
   public:
    explicit Entry(DeadlineList& list) : list_(list) {}
    ~Entry() override { list_.cancel(*this); }
    void arm(MonoDuration delay, Callback handler) override {
      list_.arm(*this, delay, std::move(handler));
    }
    void cancel() override { list_.cancel(*this); }

   private:
    friend class DeadlineList;
    // In the order (hook_) or in a wheel slot (slot_hook_), or neither.
    boost::intrusive::set_member_hook<boost::intrusive::optimize_size<true>> hook_;
    boost::intrusive::list_member_hook<> slot_hook_;
    DeadlineList& list_;
    MonoTime deadline_{};
    uint64_t order_ = 0;  // among equal deadlines: the order they were armed in
    uint32_t slot_ = 0;   // the wheel slot it waits in, while slot_hook_ is linked
    Callback handler_;
  };
  struct ByDeadline {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.deadline_ < b.deadline_ || (a.deadline_ == b.deadline_ && a.order_ < b.order_);
    }
  };
  using Set = boost::intrusive::set<
      Entry, boost::intrusive::member_hook<Entry, decltype(Entry::hook_), &Entry::hook_>,
      boost::intrusive::compare<ByDeadline>, boost::intrusive::constant_time_size<true>>;

  using Slot = boost::intrusive::list<
      Entry, boost::intrusive::member_hook<Entry, decltype(Entry::slot_hook_), &Entry::slot_hook_>,
      boost::intrusive::constant_time_size<false>>;
  static constexpr size_t kWordBits = 64;

  void arm(Entry& e, MonoDuration delay, Callback handler);
  void cancel(Entry& e);
  // Runs what is due; the driver's handler.
  void fire();
  // Arms the driver at the earliest deadline, or the start of the first
  // slot that holds timers, unless it fires by then. Under mu_.
  void arm_driver_locked(MonoTime now);

  // The wheel, under mu_. Slot numbers count kSlotLength from start_.
  uint64_t slot_of(MonoTime t) const { return static_cast<uint64_t>((t - start_) / kSlotLength); }
  MonoTime slot_start(uint64_t slot) const { return start_ + slot * kSlotLength; }
  // Moves the timers of every slot that has begun by `now` to the order.
  void advance_locked(MonoTime now);
  // Takes `e` out of the order or the wheel, wherever it is.
  void unlink_locked(Entry& e);
  // The first slot from next_slot_ on that holds timers, if any.
  std::optional<uint64_t> first_busy_slot_locked() const;
  void set_busy(size_t index, bool busy) {
    uint64_t bit = uint64_t{1} << (index % kWordBits);
    busy ? busy_[index / kWordBits] |= bit : busy_[index / kWordBits] &= ~bit;
  }

  TimeSource& time_;
  std::unique_ptr<Timer> driver_;
  mutable std::mutex mu_;
  Set set_;
  const MonoTime start_;
  // Every slot before this one has begun and been moved to the order; the
  // wheel holds slots next_slot_ .. next_slot_ + kWheelSlots - 1, slot s at
  // wheel_[s % kWheelSlots].
  uint64_t next_slot_ = 1;  // slot 0 (start_ .. start_ + kSlotLength) has begun when the list is made
  std::array<Slot, kWheelSlots> wheel_;
  std::array<uint64_t, kWheelSlots / kWordBits> busy_{};  // which slots hold timers
  size_t in_wheel_ = 0;
  uint64_t arms_ = 0;  // arms so far
  bool driver_armed_ = false;
  bool shut_down_ = false;  // shutdown() was called
  MonoTime driver_at_{};  // when the driver fires, while armed
};

}  // namespace chaton
