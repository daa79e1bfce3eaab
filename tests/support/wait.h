// wait_until: polls a condition until it holds or a bounded time passes, for
// tests that watch another thread (a server, a dispatcher) do its work,
// instead of sleeping a fixed time and assuming it is done.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace chaton::testing {

inline constexpr std::chrono::milliseconds kPollEvery{10};
inline constexpr std::chrono::milliseconds kWaitLimit{10000};

// Polls `done` every kPollEvery until it is true or `limit` passes; returns
// its last value.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = kWaitLimit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(kPollEvery);
  }
  return true;
}

}  // namespace chaton::testing
