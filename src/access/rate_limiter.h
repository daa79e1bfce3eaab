// RateLimiter: how fast one address may post (docs/CONFIG.md, "[limits]"
// `post_rate`: 429 when too fast).
//
// A token bucket per address: `burst` tokens at most, refilled at `rate`
// per second by the injected clock. Addresses in the exempt ranges are never
// limited (by default loopback: local tools and bots; behind a reverse proxy
// set trusted_proxies so the real client address is the one limited).
// Buckets that have refilled completely are forgotten, so memory follows
// the number of recently active addresses.
//
// Thread-safety: acquire() from any thread. Lifetime: the Clock must
// outlive the limiter.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "access/blacklist.h"
#include "util/clock.h"

namespace chaton {

class RateLimiter {
 public:
  // rate <= 0 turns limiting off.
  RateLimiter(double rate_per_second, double burst, AddressRanges exempt, const Clock& clock);

  // 0 when `address` may post now (a token is taken); otherwise how many
  // whole seconds until it may (at least 1).
  int acquire(std::string_view address);

  // True when `address` is in the exempt ranges.
  bool exempt(std::string_view address) const { return exempt_.contains(address); }

  // How many acquire() calls were refused so far (for /metrics).
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  struct Bucket {
    double tokens;
    SysTime last;
  };
  void forget_full_buckets(SysTime now);

  double rate_;
  double burst_;
  AddressRanges exempt_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  SysTime next_cleanup_{};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace chaton
