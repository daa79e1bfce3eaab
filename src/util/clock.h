// Clock: where the domain gets the time of day.
//
// Everything that stamps a post, expires a client or decides that a UTC day
// has ended asks a Clock, never the system directly, so tests can move time
// forward (ManualClock) without sleeping.
//
// Thread-safety: both implementations may be called from any thread.
// Lifetime: a Clock must outlive every object it was handed to.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace chaton {

using SysTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SysTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SysTime now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Starts at the given instant.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SysTime start = SysTime{}) : micros_(to_micros(start)) {}
  SysTime now() const override { return SysTime{std::chrono::microseconds{micros_.load()}}; }
  void set(SysTime t) { micros_.store(to_micros(t)); }
  void advance(std::chrono::microseconds d) { micros_.fetch_add(d.count()); }

 private:
  static int64_t to_micros(SysTime t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> micros_;
};

// Seconds and microseconds since the epoch, the way posts are stamped.
struct Stamp {
  int64_t sec = 0;
  int64_t usec = 0;
  friend auto operator<=>(const Stamp&, const Stamp&) = default;
};

inline Stamp to_stamp(SysTime t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  return Stamp{sec, us - sec * 1000000};
}

inline SysTime from_seconds(int64_t sec) { return SysTime{std::chrono::seconds{sec}}; }

}  // namespace chaton
