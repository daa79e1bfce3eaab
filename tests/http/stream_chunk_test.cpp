// Tests for counting stream chunks (http/connection.h): the per-connection
// queue bound and the per-address byte budget together.
#include <gtest/gtest.h>

#include "http/connection.h"

namespace chaton::http {
namespace {

StreamChunk chunk_of(size_t bytes, bool catch_up = false) {
  return StreamChunk{std::make_shared<const std::string>(bytes, 'x'), nullptr, catch_up, {}};
}

TEST(StreamChunk, QueuedChunksAreChargedToTheAddressUntilWritten) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 1000);
  auto ticket = limiter.admit("192.0.2.1").ticket;
  std::atomic<size_t> queued{0};
  auto live = chunk_of(300);
  auto catch_up = chunk_of(400, true);
  ASSERT_TRUE(count_chunk(live, queued, ticket));
  ASSERT_TRUE(count_chunk(catch_up, queued, ticket));
  EXPECT_EQ(queued.load(), 300u) << "catch-up is not falling behind";
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 700u) << "but its bytes are held all the same";
  auto over = chunk_of(400);
  EXPECT_FALSE(count_chunk(over, queued, ticket)) << "700 + 400 passes the address's budget";
  uncount_chunk(live, queued);
  uncount_chunk(catch_up, queued);
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 0u);
}

TEST(StreamChunk, ADroppedChunkGivesItsBytesBack) {
  ConnectionLimiter limiter(10, 10, AddressRanges(), 1000);
  auto ticket = limiter.admit("192.0.2.1").ticket;
  std::atomic<size_t> queued{0};
  {
    auto c = chunk_of(600);
    ASSERT_TRUE(count_chunk(c, queued, ticket));
    EXPECT_EQ(limiter.buffered("192.0.2.1"), 600u);
  }  // dropped unwritten, as when its connection closes
  EXPECT_EQ(limiter.buffered("192.0.2.1"), 0u);
}

}  // namespace
}  // namespace chaton::http
