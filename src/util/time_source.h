// TimeSource: where the server's live parts get time — the wall clock, the
// monotonic clock, timers and the random source — from one injected object,
// so a test can drive all four (tests/support/simulated_time.h) instead of
// waiting in real time.
//
// The domain (rooms, store) still asks a plain Clock for the time of day; a
// TimeSource is a Clock (now() is system_now()), so the composition root
// can hand the same object to both. What uses the rest: the long-poll's
// soft and hard timeouts, the push streams' heartbeats (src/live) and the
// daily archiver's midnight timer (src/server). RealTimeSource is the
// production one: Asio steady_timers, the system clock (or the Clock it is
// given) and a seeded engine per thread.
//
// A Timer runs its handler on the executor it was made for, once, after the
// delay given to arm(); a later arm() replaces a pending one, and a handler
// whose arm() was replaced or cancel()ed never runs, even if its time had
// already come. Destroying a Timer cancels it.
//
// Thread-safety: a TimeSource may be used from any thread. A Timer is not
// synchronised: arm() and cancel() come from its executor's strand, or are
// serialised by the owner (a handler must then re-check the owner's state).
// Lifetime: a TimeSource must outlive the objects it was handed to; a Timer
// may be destroyed at any time (a handler it had queued then does nothing).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "util/callback.h"
#include "util/clock.h"

namespace chaton {

using MonoTime = std::chrono::steady_clock::time_point;
using MonoDuration = std::chrono::steady_clock::duration;

// A configuration value in seconds (comet timeouts are doubles) as a duration.
inline MonoDuration seconds_as_duration(double s) {
  return std::chrono::duration_cast<MonoDuration>(std::chrono::duration<double>(s));
}

class Timer {
 public:
  virtual ~Timer() = default;
  // Runs `handler` on the timer's executor once `delay` has passed (at once,
  // through the executor, when it is not positive). Replaces a pending arm.
  virtual void arm(MonoDuration delay, Callback handler) = 0;
  // The pending handler, if any, will not run. Idempotent.
  virtual void cancel() = 0;
};

class TimeSource : public Clock {
 public:
  SysTime now() const final { return system_now(); }
  virtual SysTime system_now() const = 0;
  virtual MonoTime monotonic_now() const = 0;
  virtual std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) = 0;
  // 64 random bits; use random_between() for a timeout.
  virtual uint64_t random_bits() = 0;
};

// A duration drawn uniformly from [lo, hi] (lo when hi <= lo) from `time`'s
// random source: every random timeout (long-poll soft and hard timeouts,
// stream heartbeats, the client's pause after a failure) is drawn here.
MonoDuration random_between(TimeSource& time, MonoDuration lo, MonoDuration hi);

class RealTimeSource final : public TimeSource {
 public:
  // The wall clock is `wall` (the system clock by default).
  explicit RealTimeSource(const Clock& wall = SystemClock::instance());
  // One for code that has nobody to hand it one (the client library).
  static RealTimeSource& instance();

  SysTime system_now() const override { return wall_.now(); }
  MonoTime monotonic_now() const override { return std::chrono::steady_clock::now(); }
  std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) override;
  uint64_t random_bits() override;

 private:
  const Clock& wall_;
};

}  // namespace chaton
