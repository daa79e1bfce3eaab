// Tests for ConnectionLimiter's byte budget per address.
#include "access/connection_limiter.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace chaton {
namespace {

constexpr size_t kBudget = 1000;

ConnectionLimiter limiter_with_budget() {
  return ConnectionLimiter(100, 10, AddressRanges::parse("10.0.0.1\n"), kBudget);
}

TEST(ConnectionLimiterBytes, ChargeIsCountedAndReleasedExactlyOnce) {
  auto limiter = limiter_with_budget();
  auto a = limiter.admit("192.0.2.1").ticket;
  auto b = limiter.admit("192.0.2.1").ticket;
  auto one = a->charge(300);
  auto two = b->charge(200);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 500u);
  one->release();
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 200u);
  one->release();  // a second release gives nothing back again
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 200u);
  ConnectionLimiter::Charge moved = std::move(*two);
  two.reset();  // the moved-from charge holds nothing
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 200u);
  moved = ConnectionLimiter::Charge();  // assigning over a charge releases it
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 0u);
}

TEST(ConnectionLimiterBytes, ChargeOverTheBudgetIsRefused) {
  auto limiter = limiter_with_budget();
  auto a = limiter.admit("192.0.2.1").ticket;
  auto b = limiter.admit("192.0.2.1").ticket;
  auto held = a->charge(600);
  ASSERT_TRUE(held);
  EXPECT_FALSE(b->charge(500)) << "600 + 500 passes the budget of 1000";
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 600u) << "a refused charge leaves nothing behind";
  auto fits = b->charge(400);
  EXPECT_TRUE(fits) << "600 + 400 is exactly the budget";
  // Another address has its own budget.
  auto other = limiter.admit("192.0.2.2").ticket;
  EXPECT_TRUE(other->charge(900));
  // Released bytes can be charged again.
  held.reset();
  EXPECT_TRUE(b->charge(500));
}

TEST(ConnectionLimiterBytes, OneResponseLargerThanTheBudgetGoesWhenNothingIsHeld) {
  auto limiter = limiter_with_budget();
  auto a = limiter.admit("192.0.2.1").ticket;
  auto big = a->charge(5 * kBudget);
  ASSERT_TRUE(big);
  EXPECT_FALSE(a->charge(1));
  big.reset();
  EXPECT_TRUE(a->charge(1));
}

TEST(ConnectionLimiterBytes, ReleasedWhenTheConnectionCloses) {
  auto limiter = limiter_with_budget();
  {
    auto a = limiter.admit("192.0.2.1").ticket;
    auto held = a->charge(kBudget);
    ASSERT_TRUE(held);
    a.reset();  // the connection lets go of its ticket; its charge keeps the place
    EXPECT_EQ(limiter.open(), 1u);
    EXPECT_EQ(limiter.buffered("192.0.2.1"), kBudget);
  }  // the charge goes with the connection's last state
  EXPECT_EQ(limiter.open(), 0u);
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 0u);
  auto again = limiter.admit("192.0.2.1").ticket;
  EXPECT_TRUE(again->charge(kBudget));
}

TEST(ConnectionLimiterBytes, ExemptAddressIsNotCharged) {
  auto limiter = limiter_with_budget();
  auto proxy = limiter.admit("10.0.0.1").ticket;
  auto a = proxy->charge(kBudget);
  auto b = proxy->charge(kBudget);
  EXPECT_TRUE(a && b);
  EXPECT_EQ(limiter.buffered("10.0.0.1"), 0u);
}

TEST(ConnectionLimiter, CountsTheConnectionsItRefusedByVerdict) {
  ConnectionLimiter limiter(3, 1, AddressRanges::parse("10.0.0.1\n"));
  auto a = limiter.admit("192.0.2.1");
  EXPECT_EQ(limiter.admit("192.0.2.1").verdict, ConnectionLimiter::Verdict::too_many_from_address);
  auto b = limiter.admit("10.0.0.1");
  auto c = limiter.admit("10.0.0.1");
  EXPECT_EQ(limiter.admit("10.0.0.1").verdict, ConnectionLimiter::Verdict::too_many);
  EXPECT_EQ(limiter.admit("192.0.2.2").verdict, ConnectionLimiter::Verdict::too_many);
  EXPECT_EQ(limiter.open(), 3u);
  // A client carried by a trusted proxy counts like one that connected.
  EXPECT_EQ(limiter.admit_carried("192.0.2.1", b.ticket).verdict,
            ConnectionLimiter::Verdict::too_many_from_address);
  EXPECT_EQ(limiter.refused(ConnectionLimiter::Verdict::too_many_from_address), 2u);
  EXPECT_EQ(limiter.refused(ConnectionLimiter::Verdict::too_many), 2u);
}

// Behind a trusted proxy (10.0.0.1) each connection counts against the
// client it carries, not against the proxy, and not twice in all.
TEST(ConnectionLimiterCarried, ClientsBehindAProxyAreCappedEachOnItsOwn) {
  ConnectionLimiter limiter(100, 2, AddressRanges::parse("10.0.0.1\n"), kBudget);
  std::vector<std::shared_ptr<ConnectionLimiter::Ticket>> proxy, carried;
  for (int i = 0; i < 5; ++i) proxy.push_back(limiter.admit("10.0.0.1").ticket);
  ASSERT_EQ(limiter.open(), 5u);
  for (int i = 0; i < 2; ++i) {
    auto a = limiter.admit_carried("192.0.2.1", proxy[i]);
    ASSERT_EQ(a.verdict, ConnectionLimiter::Verdict::ok);
    EXPECT_EQ(a.ticket->address(), "192.0.2.1");
    EXPECT_EQ(a.ticket->carrier(), proxy[i]);
    carried.push_back(a.ticket);
  }
  auto third = limiter.admit_carried("192.0.2.1", proxy[2]);
  EXPECT_EQ(third.verdict, ConnectionLimiter::Verdict::too_many_from_address);
  EXPECT_FALSE(third.ticket);
  EXPECT_EQ(limiter.admit_carried("192.0.2.2", proxy[2]).verdict, ConnectionLimiter::Verdict::ok)
      << "another client behind the same proxy has places of its own";
  EXPECT_EQ(limiter.open(), 5u) << "a carried client is not counted again in all";
  // A carried client's bytes count against its own budget.
  auto held = carried[0]->charge(kBudget);
  ASSERT_TRUE(held);
  EXPECT_EQ(limiter.buffered("192.0.2.1"), kBudget);
  EXPECT_FALSE(carried[1]->charge(1));
  held.reset();
  // Giving a place back lets the client in again; the proxy's connection
  // stays open (the carried ticket held it, the session still does).
  carried.pop_back();
  EXPECT_EQ(limiter.admit_carried("192.0.2.1", proxy[2]).verdict, ConnectionLimiter::Verdict::ok);
  carried.clear();
  proxy.clear();
  EXPECT_EQ(limiter.open(), 0u);
}

TEST(ConnectionLimiterBytes, NoTicketChargesNothing) { EXPECT_TRUE(charge_bytes(nullptr, 1u << 30)); }

}  // namespace
}  // namespace chaton
