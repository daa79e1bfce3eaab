// Tests for wake_loop_of() (live/wake_loop.h): one WakeLoop per io_context,
// found from its plain executor however it is wrapped in an
// any_io_executor; none for a strand; its tasks run on the io_context.
#include "live/wake_loop.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace chaton::live {
namespace {

namespace net = boost::asio;

TEST(WakeLoop, OnePerIoContextFoundFromItsExecutor) {
  net::io_context a, b;
  WakeLoop* la = wake_loop_of(a.get_executor());
  ASSERT_NE(la, nullptr);
  EXPECT_EQ(wake_loop_of(net::any_io_executor(a.get_executor())), la);
  WakeLoop* lb = wake_loop_of(b.get_executor());
  ASSERT_NE(lb, nullptr);
  EXPECT_NE(la, lb);
}

TEST(WakeLoop, NoneForAStrand) {
  net::io_context io;
  EXPECT_EQ(wake_loop_of(net::make_strand(io)), nullptr);
}

TEST(WakeLoop, ItsTasksRunOnTheIoContextNeverInline) {
  net::io_context io;
  int ran = 0;
  wake_loop_of(io.get_executor())->post([&] { ++ran; });
  EXPECT_EQ(ran, 0);
  io.poll();
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace chaton::live
