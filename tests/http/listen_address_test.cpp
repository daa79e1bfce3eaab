// resolve_listen_address (http/listener.h): site.listen's host as an address,
// "localhost", or a name the system resolves (docs/CONFIG.md, `listen`).
#include <gtest/gtest.h>

#include "http/listener.h"

namespace chaton::http {
namespace {

TEST(ListenAddress, AnAddressIsTakenAsItIs) {
  EXPECT_EQ(resolve_listen_address("192.0.2.7", 80).value().address().to_string(), "192.0.2.7");
  EXPECT_EQ(resolve_listen_address("::1", 8080).value().address().to_string(), "::1");
  EXPECT_EQ(resolve_listen_address("0.0.0.0", 0).value().port(), 0);
}

TEST(ListenAddress, LocalhostIsTheIpv4Loopback) {
  auto e = resolve_listen_address("localhost", 8080);
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_EQ(e->address().to_string(), "127.0.0.1");
  EXPECT_EQ(e->port(), 8080);
}

TEST(ListenAddress, ANameIsResolved) {
  // Not the literal "localhost": the system's resolver answers (host names
  // are case-insensitive).
  auto e = resolve_listen_address("LOCALHOST", 8080);
  ASSERT_TRUE(e) << e.status().message();
  EXPECT_TRUE(e->address().is_loopback()) << e->address().to_string();
  EXPECT_EQ(e->port(), 8080);
}

TEST(ListenAddress, AnUnknownNameIsAnError) {
  auto e = resolve_listen_address("no-such-host.invalid", 80);
  ASSERT_FALSE(e);
  EXPECT_NE(e.status().message().find("cannot resolve host 'no-such-host.invalid'"), std::string::npos)
      << e.status().message();
}

}  // namespace
}  // namespace chaton::http
