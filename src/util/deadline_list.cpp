// DeadlineList: see deadline_list.h.
#include "util/deadline_list.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace chaton {

DeadlineList::DeadlineList(TimeSource& time, std::unique_ptr<Timer> driver)
    : time_(time), driver_(std::move(driver)) {}

DeadlineList::~DeadlineList() {
  driver_->cancel();
  // The timers must be gone by now (they outlive nothing of the list);
  // unlink any left so that the set's destructor finds it empty.
  set_.clear();
}

std::unique_ptr<Timer> DeadlineList::make_timer() { return std::make_unique<Entry>(*this); }

size_t DeadlineList::pending() const {
  std::lock_guard lock(mu_);
  return set_.size();
}

void DeadlineList::shutdown() {
  std::vector<std::function<void()>> dropped;  // destroyed outside the lock: they may own timers of this list
  {
    std::lock_guard lock(mu_);
    dropped.reserve(set_.size());
    while (!set_.empty()) {
      Entry& e = *set_.begin();
      set_.erase(set_.begin());
      dropped.push_back(std::move(e.handler_));
      e.handler_ = nullptr;
    }
    driver_armed_ = false;
    shut_down_ = true;
    driver_->cancel();
  }
}

void DeadlineList::arm(Entry& e, MonoDuration delay, std::function<void()> handler) {
  std::function<void()> replaced;  // let go of outside the lock: it may own timers of this list
  {
    std::lock_guard lock(mu_);
    if (shut_down_) {
      replaced = std::move(handler);
      return;
    }
    MonoTime now = time_.monotonic_now();
    if (e.hook_.is_linked()) set_.erase(set_.iterator_to(e));
    replaced = std::exchange(e.handler_, std::move(handler));
    e.deadline_ = now + std::max(delay, MonoDuration::zero());
    e.order_ = ++arms_;
    set_.insert(e);
    arm_driver_locked(now);
  }
}

void DeadlineList::cancel(Entry& e) {
  std::function<void()> dropped;
  {
    std::lock_guard lock(mu_);
    if (e.hook_.is_linked()) set_.erase(set_.iterator_to(e));
    dropped = std::move(e.handler_);
    e.handler_ = nullptr;
    // The driver stays armed: when it fires early it finds nothing due and
    // waits for the next deadline. With nothing left, it is stopped.
    if (set_.empty() && driver_armed_) {
      driver_armed_ = false;
      driver_->cancel();
    }
  }
}

void DeadlineList::arm_driver_locked(MonoTime now) {
  if (set_.empty()) return;
  MonoTime first = set_.begin()->deadline_;
  if (driver_armed_ && driver_at_ <= first) return;
  driver_armed_ = true;
  driver_at_ = first;
  driver_->arm(first - now, [this] { fire(); });
}

void DeadlineList::fire() {
  uint64_t last_before;  // what is armed from here on waits for the next firing
  MonoTime now;
  {
    std::lock_guard lock(mu_);
    driver_armed_ = false;
    last_before = arms_;
    now = time_.monotonic_now();
  }
  for (;;) {
    std::function<void()> handler;
    {
      std::lock_guard lock(mu_);
      if (set_.empty()) return;
      Entry& first = *set_.begin();
      if (first.deadline_ > now || first.order_ > last_before) {
        // Not due yet, or armed by a handler of this round (a delay of zero
        // runs through the executor, at the driver's next firing).
        arm_driver_locked(time_.monotonic_now());
        return;
      }
      set_.erase(set_.begin());
      handler = std::move(first.handler_);
      first.handler_ = nullptr;
    }
    // Outside the lock: it may arm, cancel or destroy any timer here.
    if (handler) handler();
  }
}

}  // namespace chaton
