// HandlerMemory: a block is made on first use at the size asked for, reused
// once handed back, never given twice.
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
  void* second = memory.allocate(90, alignof(std::max_align_t));
  EXPECT_EQ(first, second);
  memory.deallocate(second, 90, alignof(std::max_align_t));
}

TEST(HandlerMemory, HoldsNothingUntilUsedThenWhatItsOperationsTake) {
  HandlerMemory memory;
  EXPECT_EQ(memory.held_bytes(), 0u) << "a connection that never writes holds no block";
  void* a = memory.allocate(448, 8);
  EXPECT_EQ(memory.held_bytes(), 448u);
  memory.deallocate(a, 448, 8);
  void* b = memory.allocate(1000, 8);  // larger: the free block is made again
  EXPECT_EQ(memory.held_bytes(), 1024u) << "one block, rounded up";
  memory.deallocate(b, 1000, 8);
  void* c = memory.allocate(448, 8);
  EXPECT_EQ(c, b) << "a smaller state reuses it";
  memory.deallocate(c, 448, 8);
  EXPECT_EQ(memory.held_bytes(), 1024u);
}

TEST(HandlerMemory, ANestedOperationGetsTheSecondBlock) {
  HandlerMemory memory;
  for (int round = 0; round < 2; ++round) {
    void* outer = memory.allocate(1288, 8);  // a WebSocket frame write
    void* inner = memory.allocate(768, 8);   // the socket send it starts
    EXPECT_NE(outer, inner);
    memory.deallocate(inner, 768, 8);
    memory.deallocate(outer, 1288, 8);
    EXPECT_FALSE(memory.in_use());
    EXPECT_EQ(memory.held_bytes(), 1344u + 768u) << "the same two blocks each round";
  }
}

TEST(HandlerMemory, FallsBackWhileInUseOrTooLarge) {
  HandlerMemory memory;
  void* held = memory.allocate(64, 8);
  void* nested = memory.allocate(64, 8);
  void* other = memory.allocate(64, 8);  // both blocks are taken
  EXPECT_NE(held, other);
  EXPECT_NE(nested, other);
  memory.deallocate(other, 64, 8);
  EXPECT_TRUE(memory.in_use());  // handing back the other block leaves these held
  memory.deallocate(nested, 64, 8);
  memory.deallocate(held, 64, 8);
  EXPECT_FALSE(memory.in_use());
  void* large = memory.allocate(HandlerMemory::kBytes + 1, 8);
  EXPECT_FALSE(memory.in_use());
  memory.deallocate(large, HandlerMemory::kBytes + 1, 8);
  EXPECT_EQ(memory.held_bytes(), 128u);
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
