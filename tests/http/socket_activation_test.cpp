// The LISTEN_PID / LISTEN_FDS protocol of socket activation
// (http/socket_activation.h); tests/integration/socket_activation.test.mjs
// runs the server on a passed socket.
#include "http/socket_activation.h"

#include <gtest/gtest.h>

namespace chaton::http {
namespace {

TEST(SocketActivation, NotActivatedWhenTheVariablesAreUnset) {
  EXPECT_EQ(listen_fds_for(std::nullopt, std::nullopt, 42).value(), 0);
  EXPECT_EQ(listen_fds_for("42", std::nullopt, 42).value(), 0);
  EXPECT_EQ(listen_fds_for(std::nullopt, "1", 42).value(), 0);
}

TEST(SocketActivation, SocketsMeantForAnotherProcessAreNotOurs) {
  EXPECT_EQ(listen_fds_for("41", "1", 42).value(), 0);
  EXPECT_EQ(listen_fds_for("41", "not a number", 42).value(), 0);
}

TEST(SocketActivation, CountsTheSocketsPassedToThisProcess) {
  EXPECT_EQ(listen_fds_for("42", "1", 42).value(), 1);
  EXPECT_EQ(listen_fds_for("42", "3", 42).value(), 3);
}

TEST(SocketActivation, MalformedVariablesAreAnError) {
  for (auto [pid, fds] : {std::pair{"x42", "1"}, {"", "1"}, {"42", "0"}, {"42", "-1"}, {"42", "1x"}, {"42", ""}}) {
    auto n = listen_fds_for(pid, fds, 42);
    ASSERT_FALSE(n) << pid << " " << fds;
    EXPECT_NE(n.status().message().find("socket activation: LISTEN_"), std::string::npos) << n.status().message();
  }
}

}  // namespace
}  // namespace chaton::http
