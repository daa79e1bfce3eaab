// SimulatedTimeSource: a TimeSource (src/util/time_source.h) that moves only
// when a test says so, for the tests of any module.
//
//   SimulatedTimeSource time(from_seconds(1732460000));
//   auto t = time.make_timer(io.get_executor());
//   t->arm(std::chrono::seconds(30), [&] { ++fired; });
//   time.advance(std::chrono::seconds(30));  // posts the handler...
//   io.poll();                               // ...which runs here
//
// advance(d) moves the wall and the monotonic clock forward by `d` and
// posts the handler of every timer then due to that timer's executor, in
// deadline order (ties in the order they were armed); the test runs them
// with io_context::poll(). A timer armed by such a handler counts from the
// new time, so it fires at a later advance() (a delay of zero: at the
// next one, even advance(0)). set_system_time() moves the
// wall clock alone (a jump of the time of day, as NTP may make): timers,
// which count monotonic time, do not move. Random numbers come from an
// engine with a fixed seed, so a run repeats.
//
// Unlike a real timer, an armed simulated one is no work for its
// io_context, so an io_context with nothing else to do stops (and poll()
// then does nothing until restart()): a test that polls by hand keeps a
// work guard on it, as the tests here do.
//
// Thread-safety: every member may be called from any thread. Lifetime:
// timers share the source's state, so either may go first; the source's
// destructor drops the handlers still armed (they often own their timer).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include <boost/asio/post.hpp>

#include "util/time_source.h"

namespace chaton::testing {

class SimulatedTimeSource final : public TimeSource {
 public:
  explicit SimulatedTimeSource(SysTime start = SysTime{}, uint64_t seed = 12345)
      : state_(std::make_shared<State>(start, seed)) {}
  ~SimulatedTimeSource() override {
    std::vector<Armed> armed;
    {
      std::lock_guard lock(state_->mu);
      armed.swap(state_->armed);
    }
  }  // `armed` goes here, outside the lock: a handler's owner may cancel its timer
  SimulatedTimeSource(const SimulatedTimeSource&) = delete;
  SimulatedTimeSource& operator=(const SimulatedTimeSource&) = delete;

  SysTime system_now() const override {
    std::lock_guard lock(state_->mu);
    return state_->wall;
  }
  MonoTime monotonic_now() const override {
    std::lock_guard lock(state_->mu);
    return state_->mono;
  }
  std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) override {
    return std::make_unique<SimTimer>(state_, std::move(executor));
  }
  uint64_t random_bits() override {
    std::lock_guard lock(state_->mu);
    return state_->rng();
  }

  // Moves both clocks forward by `d` and posts every handler then due.
  void advance(MonoDuration d) {
    std::vector<Armed> due;
    {
      std::lock_guard lock(state_->mu);
      state_->wall += std::chrono::duration_cast<SysTime::duration>(d);
      state_->mono += d;
      auto& armed = state_->armed;
      std::stable_sort(armed.begin(), armed.end(),
                       [](const Armed& a, const Armed& b) { return a.deadline < b.deadline; });
      auto first_later =
          std::find_if(armed.begin(), armed.end(), [&](const Armed& a) { return a.deadline > state_->mono; });
      due.assign(std::make_move_iterator(armed.begin()), std::make_move_iterator(first_later));
      armed.erase(armed.begin(), first_later);
    }
    for (auto& a : due) {
      boost::asio::post(a.executor, [generation = a.generation, mine = a.mine, h = std::move(a.handler)] {
        if (*generation == mine) h();
      });
    }
  }

  // Sets the wall clock only; no timer moves.
  void set_system_time(SysTime t) {
    std::lock_guard lock(state_->mu);
    state_->wall = t;
  }

  // Timers armed and not yet due.
  size_t pending_timers() const {
    std::lock_guard lock(state_->mu);
    return state_->armed.size();
  }

 private:
  struct Armed {
    MonoTime deadline;
    const void* timer;
    std::shared_ptr<std::atomic<uint64_t>> generation;  // the timer's
    uint64_t mine;
    boost::asio::any_io_executor executor;
    Callback handler;
  };
  struct State {
    State(SysTime start, uint64_t seed) : wall(start), rng(seed) {}
    mutable std::mutex mu;
    SysTime wall;
    MonoTime mono{std::chrono::hours(1)};
    std::mt19937_64 rng;
    std::vector<Armed> armed;  // in the order armed

    // Moves the timer's entry out (a timer has one at most: arm() takes
    // the last one first), allocating nothing; the caller destroys it after
    // unlocking, as a handler may own the timer's owner.
    std::optional<Armed> take(const void* timer) {
      auto it = std::find_if(armed.begin(), armed.end(), [&](const Armed& a) { return a.timer == timer; });
      if (it == armed.end()) return std::nullopt;
      std::optional<Armed> out(std::move(*it));
      armed.erase(it);
      return out;
    }
  };

  // As the Asio timer: each arm() or cancel() is a new generation, and a
  // handler already posted runs only if it is still the current one.
  class SimTimer final : public Timer {
   public:
    SimTimer(std::shared_ptr<State> state, boost::asio::any_io_executor executor)
        : state_(std::move(state)), executor_(std::move(executor)) {}
    ~SimTimer() override { cancel(); }

    void arm(MonoDuration delay, Callback handler) override {
      std::optional<Armed> dropped;  // destroyed after the lock is released
      std::lock_guard lock(state_->mu);
      dropped = state_->take(this);
      uint64_t mine = ++*generation_;
      state_->armed.push_back(Armed{state_->mono + std::max(delay, MonoDuration::zero()), this, generation_,
                                    mine, executor_, std::move(handler)});
    }
    void cancel() override {
      std::optional<Armed> dropped;  // destroyed after the lock is released
      std::lock_guard lock(state_->mu);
      dropped = state_->take(this);
      ++*generation_;
    }

   private:
    std::shared_ptr<State> state_;
    boost::asio::any_io_executor executor_;
    std::shared_ptr<std::atomic<uint64_t>> generation_ = std::make_shared<std::atomic<uint64_t>>(0);
  };

  std::shared_ptr<State> state_;
};

}  // namespace chaton::testing
