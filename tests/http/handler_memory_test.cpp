// HandlerMemory: the block is reused once handed back, never given twice.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

#include "http/handler_memory.h"

namespace chaton::http {
namespace {

TEST(HandlerMemory, ReusesTheBlockOnceHandedBack) {
  HandlerMemory memory;
  void* first = memory.allocate(100, alignof(std::max_align_t));
  EXPECT_TRUE(memory.in_use());
  memory.deallocate(first, 100, alignof(std::max_align_t));
  EXPECT_FALSE(memory.in_use());
  void* second = memory.allocate(200, alignof(std::max_align_t));
  EXPECT_EQ(first, second);
  memory.deallocate(second, 200, alignof(std::max_align_t));
}

TEST(HandlerMemory, FallsBackWhileInUseOrTooLarge) {
  HandlerMemory memory;
  void* held = memory.allocate(64, 8);
  void* other = memory.allocate(64, 8);
  EXPECT_NE(held, other);
  memory.deallocate(other, 64, 8);
  EXPECT_TRUE(memory.in_use());  // handing back the other block leaves this one held
  memory.deallocate(held, 64, 8);
  void* large = memory.allocate(HandlerMemory::kBytes + 1, 8);
  EXPECT_FALSE(memory.in_use());
  memory.deallocate(large, HandlerMemory::kBytes + 1, 8);
}

TEST(HandlerMemory, AnOperationTakesTheBlockAndHandsItBackBeforeItsHandler) {
  boost::asio::io_context io;
  HandlerMemory memory;
  boost::asio::steady_timer timer(io);
  int completions = 0;
  bool in_use_while_pending = false;
  bool in_use_in_handler = true;
  timer.expires_after(std::chrono::milliseconds(1));
  timer.async_wait(with_memory(memory, [&](boost::system::error_code ec) {
    EXPECT_FALSE(ec);
    in_use_in_handler = memory.in_use();
    ++completions;
  }));
  in_use_while_pending = memory.in_use();
  io.run();
  EXPECT_EQ(completions, 1);
  EXPECT_TRUE(in_use_while_pending);
  EXPECT_FALSE(in_use_in_handler);
}

}  // namespace
}  // namespace chaton::http
