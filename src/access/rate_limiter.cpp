// RateLimiter: see rate_limiter.h.
#include "access/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace chaton {

namespace {
constexpr std::chrono::seconds kCleanupInterval{60};
}

RateLimiter::RateLimiter(double rate_per_second, double burst, AddressRanges exempt, const Clock& clock)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), exempt_(std::move(exempt)), clock_(clock) {}

int RateLimiter::acquire(std::string_view address) {
  if (rate_ <= 0 || exempt_.contains(address)) return 0;
  SysTime now = clock_.now();
  std::lock_guard lock(mu_);
  if (now >= next_cleanup_) forget_full_buckets(now);
  auto [it, fresh] = buckets_.try_emplace(std::string(address), Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  refused_.fetch_add(1, std::memory_order_relaxed);
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
}

void RateLimiter::forget_full_buckets(SysTime now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    double elapsed = std::chrono::duration<double>(now - it->second.last).count();
    if (it->second.tokens + elapsed * rate_ >= burst_)
      it = buckets_.erase(it);
    else
      ++it;
  }
  next_cleanup_ = now + kCleanupInterval;
}

}  // namespace chaton
