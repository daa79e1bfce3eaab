// The per-address post rate limit, driven by a ManualClock.
#include "access/rate_limiter.h"

#include <gtest/gtest.h>

namespace chaton {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, AllowsABurstThenAsksToWait) {
  ManualClock clock(SysTime{1000s});
  RateLimiter limiter(0.5, 3, AddressRanges{}, clock);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 2);  // one token takes 2 s at 0.5/s
  EXPECT_EQ(limiter.acquire("192.0.2.9"), 0) << "other addresses have their own bucket";
  clock.advance(1s);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 1);
  clock.advance(1s);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
}

TEST(RateLimiter, CountsTheRequestsItRefused) {
  ManualClock clock(SysTime{1000s});
  RateLimiter limiter(0.5, 1, AddressRanges::parse("127.0.0.0/8\n"), clock);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  EXPECT_GT(limiter.acquire("192.0.2.1"), 0);
  EXPECT_GT(limiter.acquire("192.0.2.1"), 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.acquire("127.0.0.1"), 0);
  EXPECT_EQ(limiter.refused(), 2u);
}

TEST(RateLimiter, RefillsUpToTheBurstOnly) {
  ManualClock clock(SysTime{1000s});
  RateLimiter limiter(1, 2, AddressRanges{}, clock);
  clock.advance(3600s);
  EXPECT_EQ(limiter.acquire("2001:db8::1"), 0);
  EXPECT_EQ(limiter.acquire("2001:db8::1"), 0);
  EXPECT_GT(limiter.acquire("2001:db8::1"), 0);
}

TEST(RateLimiter, ExemptRangesAndZeroRateAreNeverLimited) {
  ManualClock clock(SysTime{1000s});
  RateLimiter limiter(1, 1, AddressRanges::parse("127.0.0.0/8\n::1\n"), clock);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(limiter.acquire("127.0.0.1"), 0);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(limiter.acquire("::1"), 0);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  EXPECT_GT(limiter.acquire("192.0.2.1"), 0);
  RateLimiter off(0, 1, AddressRanges{}, clock);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(off.acquire("192.0.2.1"), 0);
}

TEST(RateLimiter, ForgetsIdleAddressesWithoutForgivingActiveOnes) {
  ManualClock clock(SysTime{1000s});
  RateLimiter limiter(1, 2, AddressRanges{}, clock);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  clock.advance(61s);  // cleanup runs on the next call; this bucket is full again anyway
  EXPECT_EQ(limiter.acquire("192.0.2.2"), 0);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  EXPECT_EQ(limiter.acquire("192.0.2.1"), 0);
  EXPECT_GT(limiter.acquire("192.0.2.1"), 0);
}

}  // namespace
}  // namespace chaton
