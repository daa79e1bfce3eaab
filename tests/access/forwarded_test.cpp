// Client addresses behind trusted proxies, and connection caps.
#include "access/forwarded.h"
#include "access/connection_limiter.h"

#include <gtest/gtest.h>

namespace chaton {
namespace {

TEST(ClientAddress, OnlyTrustedPeersAreBelieved) {
  AddressRanges trusted = AddressRanges::parse("10.0.0.0/8\n::1\n");
  EXPECT_EQ(client_address("192.0.2.7", "198.51.100.1", trusted), "192.0.2.7");
  EXPECT_EQ(client_address("10.1.2.3", "198.51.100.1", trusted), "198.51.100.1");
  EXPECT_EQ(client_address("::1", "2001:db8::5", trusted), "2001:db8::5");
  EXPECT_EQ(client_address("10.1.2.3", "", trusted), "10.1.2.3");
  EXPECT_EQ(client_address("10.1.2.3", "198.51.100.1", AddressRanges{}), "10.1.2.3");
}

TEST(ClientAddress, TheRightmostUntrustedHopWins) {
  AddressRanges trusted = AddressRanges::parse("10.0.0.0/8\n");
  // A client can prepend anything; only what the trusted proxies appended counts.
  EXPECT_EQ(client_address("10.0.0.1", "1.2.3.4, 198.51.100.9, 10.0.0.2", trusted), "198.51.100.9");
  EXPECT_EQ(client_address("10.0.0.1", "10.0.0.3,10.0.0.2", trusted), "10.0.0.1");
  EXPECT_EQ(client_address("10.0.0.1", "garbage", trusted), "10.0.0.1");
}

TEST(ClientGroup, AnIpv6AddressStandsForItsSlash64) {
  EXPECT_EQ(client_group("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_group("2001:db8:1:2:ffff:eeee:dddd:cccc"), "2001:db8:1:2::/64");
  EXPECT_NE(client_group("2001:db8:1:3::1"), client_group("2001:db8:1:2::1"));
  EXPECT_EQ(client_group("198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(client_group("::ffff:198.51.100.7"), "::ffff:198.51.100.7");
  EXPECT_EQ(client_group("unknown"), "unknown");
}

TEST(ConnectionLimiter, CapsInAllAndPerAddress) {
  ConnectionLimiter limiter(3, 2, AddressRanges::parse("10.0.0.1\n"));
  auto a = limiter.admit("192.0.2.1");
  auto b = limiter.admit("192.0.2.1");
  EXPECT_EQ(a.verdict, ConnectionLimiter::Verdict::ok);
  EXPECT_EQ(b.verdict, ConnectionLimiter::Verdict::ok);
  EXPECT_EQ(limiter.admit("192.0.2.1").verdict, ConnectionLimiter::Verdict::too_many_from_address);
  auto c = limiter.admit("10.0.0.1");  // exempt from the per-address cap
  EXPECT_EQ(c.verdict, ConnectionLimiter::Verdict::ok);
  EXPECT_EQ(limiter.admit("192.0.2.2").verdict, ConnectionLimiter::Verdict::too_many);
  EXPECT_EQ(limiter.open(), 3u);
  a.ticket.reset();
  EXPECT_EQ(limiter.open(), 2u);
  EXPECT_EQ(limiter.admit("192.0.2.1").verdict, ConnectionLimiter::Verdict::ok);
}

}  // namespace
}  // namespace chaton
