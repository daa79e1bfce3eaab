// DeadlineList: see deadline_list.h.
#include "util/deadline_list.h"

#include <algorithm>
#include <bit>
#include <utility>
#include <vector>

namespace chaton {

static_assert(DeadlineList::kWheelSlots % 64 == 0, "the busy bits are whole words");

DeadlineList::DeadlineList(TimeSource& time, std::unique_ptr<Timer> driver)
    : time_(time), driver_(std::move(driver)), start_(time.monotonic_now()) {}

DeadlineList::~DeadlineList() {
  driver_->cancel();
  // The timers must be gone by now (they outlive nothing of the list);
  // unlink any left so that the containers' destructors find them empty.
  set_.clear();
  for (Slot& slot : wheel_) slot.clear();
}

std::unique_ptr<Timer> DeadlineList::make_timer() { return std::make_unique<Entry>(*this); }

size_t DeadlineList::pending() const {
  std::lock_guard lock(mu_);
  return set_.size() + in_wheel_;
}

size_t DeadlineList::sorted() const {
  std::lock_guard lock(mu_);
  return set_.size();
}

void DeadlineList::shutdown() {
  std::vector<Callback> dropped;  // destroyed outside the lock: they may own timers of this list
  {
    std::lock_guard lock(mu_);
    dropped.reserve(set_.size() + in_wheel_);
    auto drop = [&](Entry& e) {
      dropped.push_back(std::move(e.handler_));
      e.handler_ = nullptr;
    };
    while (!set_.empty()) {
      Entry& e = *set_.begin();
      set_.erase(set_.begin());
      drop(e);
    }
    for (Slot& slot : wheel_) {
      while (!slot.empty()) {
        Entry& e = slot.front();
        slot.pop_front();
        drop(e);
      }
    }
    busy_.fill(0);
    in_wheel_ = 0;
    driver_armed_ = false;
    shut_down_ = true;
    driver_->cancel();
  }
}

void DeadlineList::unlink_locked(Entry& e) {
  if (e.hook_.is_linked()) {
    set_.erase(set_.iterator_to(e));
  } else if (e.slot_hook_.is_linked()) {
    Slot& slot = wheel_[e.slot_];
    slot.erase(slot.iterator_to(e));
    if (slot.empty()) set_busy(e.slot_, false);
    --in_wheel_;
  }
}

void DeadlineList::advance_locked(MonoTime now) {
  const uint64_t begun = slot_of(now);  // the slot `now` is in, and all before it, have begun
  if (begun < next_slot_) return;
  if (in_wheel_ > 0) {
    // Only the slots that can hold timers: at most one turn of the wheel.
    const uint64_t last = std::min(begun, next_slot_ + kWheelSlots - 1);
    for (uint64_t s = next_slot_; s <= last && in_wheel_ > 0; ++s) {
      const size_t index = s % kWheelSlots;
      Slot& slot = wheel_[index];
      while (!slot.empty()) {
        Entry& e = slot.front();
        slot.pop_front();
        --in_wheel_;
        set_.insert(e);
      }
      set_busy(index, false);
    }
  }
  next_slot_ = begun + 1;
}

std::optional<uint64_t> DeadlineList::first_busy_slot_locked() const {
  if (in_wheel_ == 0) return std::nullopt;
  // The busy bits from next_slot_'s index on, wrapping round once.
  const size_t from = next_slot_ % kWheelSlots;
  for (size_t scanned = 0; scanned < kWheelSlots;) {
    const size_t index = (from + scanned) % kWheelSlots;
    const size_t offset = index % kWordBits;
    const uint64_t bits = busy_[index / kWordBits] >> offset;
    if (bits != 0) return next_slot_ + scanned + static_cast<size_t>(std::countr_zero(bits));
    scanned += kWordBits - offset;
  }
  return std::nullopt;
}

void DeadlineList::arm(Entry& e, MonoDuration delay, Callback handler) {
  Callback replaced;  // let go of outside the lock: it may own timers of this list
  {
    std::lock_guard lock(mu_);
    if (shut_down_) {
      replaced = std::move(handler);
      return;
    }
    MonoTime now = time_.monotonic_now();
    advance_locked(now);
    unlink_locked(e);
    replaced = std::exchange(e.handler_, std::move(handler));
    e.deadline_ = now + std::max(delay, MonoDuration::zero());
    e.order_ = ++arms_;
    // Due after the current slot and within the wheel's turn: its slot;
    // otherwise (due soon, or far ahead) the order.
    const uint64_t slot = slot_of(e.deadline_);
    if (slot >= next_slot_ && slot < next_slot_ + kWheelSlots) {
      e.slot_ = static_cast<uint32_t>(slot % kWheelSlots);
      wheel_[e.slot_].push_back(e);
      set_busy(e.slot_, true);
      ++in_wheel_;
    } else {
      set_.insert(e);
    }
    arm_driver_locked(now);
  }
}

void DeadlineList::cancel(Entry& e) {
  Callback dropped;
  {
    std::lock_guard lock(mu_);
    unlink_locked(e);
    dropped = std::move(e.handler_);
    e.handler_ = nullptr;
    // The driver stays armed: when it fires early it finds nothing due and
    // waits for the next deadline. With nothing left, it is stopped.
    if (set_.empty() && in_wheel_ == 0 && driver_armed_) {
      driver_armed_ = false;
      driver_->cancel();
    }
  }
}

void DeadlineList::arm_driver_locked(MonoTime now) {
  std::optional<MonoTime> first;
  if (!set_.empty()) first = set_.begin()->deadline_;
  if (auto slot = first_busy_slot_locked()) first = first ? std::min(*first, slot_start(*slot)) : slot_start(*slot);
  if (!first) return;
  if (driver_armed_ && driver_at_ <= *first) return;
  driver_armed_ = true;
  driver_at_ = *first;
  driver_->arm(*first - now, [this] { fire(); });
}

void DeadlineList::fire() {
  uint64_t last_before;  // what is armed from here on waits for the next firing
  MonoTime now;
  {
    std::lock_guard lock(mu_);
    driver_armed_ = false;
    last_before = arms_;
    now = time_.monotonic_now();
    // Every timer due by now is in the order from here on.
    advance_locked(now);
  }
  for (;;) {
    Callback handler;
    {
      std::lock_guard lock(mu_);
      if (set_.empty() || set_.begin()->deadline_ > now || set_.begin()->order_ > last_before) {
        // Nothing more due, or armed by a handler of this round (a delay of
        // zero runs through the executor, at the driver's next firing).
        arm_driver_locked(time_.monotonic_now());
        return;
      }
      Entry& first = *set_.begin();
      set_.erase(set_.begin());
      handler = std::move(first.handler_);
      first.handler_ = nullptr;
    }
    // Outside the lock: it may arm, cancel or destroy any timer here.
    if (handler) handler();
  }
}

}  // namespace chaton
