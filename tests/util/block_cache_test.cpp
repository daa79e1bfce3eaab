// The block cache: a freed block serves the next allocation of its size
// class on its thread, without the heap; a block larger than the largest
// class is not kept; a thread keeps at most kMaxCachedBytes; a block freed
// on another thread joins that thread's cache; the allocator and the base
// class route through it. Only a thread that says so caches (a loop's).
#include "util/block_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "support/allocation_count.h"

namespace chaton {
namespace {

using block_cache::kGrain;
using block_cache::kLargestBlock;
using block_cache::kMaxCachedBytes;

#if defined(CHATON_COUNTS_ALLOCATIONS)
constexpr bool kCached = true;
#else
constexpr bool kCached = false;  // nothing is cached under AddressSanitizer
#endif

class BlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kCached) GTEST_SKIP() << "nothing is cached under a sanitizer";
    block_cache::use_on_this_thread();  // as a loop's thread does
    block_cache::release();
  }
  void TearDown() override { block_cache::release(); }
};

TEST_F(BlockCacheTest, AFreedBlockServesTheNextOfItsClassWithoutTheHeap) {
  const size_t block = block_cache::block_bytes(100);
  ASSERT_GE(block, 100u);
  ASSERT_LT(block, 100 + kGrain);
  void* p = block_cache::allocate(100);
  block_cache::deallocate(p, 100);
  EXPECT_EQ(block_cache::cached_bytes(), block);
  const size_t before = testing::allocations;
  void* q = block_cache::allocate(block);  // the same class
  EXPECT_EQ(q, p);
  EXPECT_EQ(testing::allocations, before);
  EXPECT_EQ(block_cache::cached_bytes(), 0u);
  void* r = block_cache::allocate(block + 1);  // the next class: none cached
  EXPECT_EQ(testing::allocations, before + 1);
  block_cache::deallocate(q, block);
  block_cache::deallocate(r, block + 1);
}

TEST_F(BlockCacheTest, ABlockLargerThanTheLargestClassGoesBackToTheHeap) {
  void* p = block_cache::allocate(kLargestBlock + 1);
  block_cache::deallocate(p, kLargestBlock + 1);
  EXPECT_EQ(block_cache::cached_bytes(), 0u);
}

TEST_F(BlockCacheTest, AThreadKeepsAtMostTheBound) {
  const size_t block = block_cache::block_bytes(kLargestBlock);
  std::vector<void*> blocks(kMaxCachedBytes / block + 10);
  for (auto& b : blocks) b = block_cache::allocate(kLargestBlock);
  for (auto* b : blocks) block_cache::deallocate(b, kLargestBlock);
  EXPECT_EQ(block_cache::cached_bytes(), kMaxCachedBytes / block * block);
}

TEST_F(BlockCacheTest, ABlockFreedOnAnotherThreadJoinsThatThreadsCache) {
  void* p = block_cache::allocate(100);
  size_t there = 0;
  void* again = nullptr;
  std::thread([&] {
    block_cache::use_on_this_thread();
    block_cache::deallocate(p, 100);
    there = block_cache::cached_bytes();
    again = block_cache::allocate(100);
    block_cache::deallocate(again, 100);
  }).join();  // the thread's cache goes back to the heap as it ends
  EXPECT_EQ(there, block_cache::block_bytes(100));
  EXPECT_EQ(again, p);
  EXPECT_EQ(block_cache::cached_bytes(), 0u);
}

TEST_F(BlockCacheTest, AThreadThatDoesNotUseTheCacheGivesBlocksBackToTheHeap) {
  void* p = block_cache::allocate(100);
  size_t there = 1;
  std::thread([&] {
    block_cache::deallocate(p, 100);
    there = block_cache::cached_bytes();
  }).join();
  EXPECT_EQ(there, 0u);
}

struct Cached : CachedNew {
  virtual ~Cached() = default;
  char bytes[40] = {};
};
struct Larger final : Cached {
  char more[100] = {};
};

TEST_F(BlockCacheTest, AClassDerivedFromCachedNewIsMadeFromTheCache) {
  std::unique_ptr<Cached> a = std::make_unique<Larger>();
  Cached* first = a.get();
  a.reset();  // through the base: the block goes back at the derived class's size
  EXPECT_EQ(block_cache::cached_bytes(), block_cache::block_bytes(sizeof(Larger)));
  const size_t before = testing::allocations;
  auto b = std::make_unique<Larger>();
  EXPECT_EQ(b.get(), first);
  EXPECT_EQ(testing::allocations, before);
}

TEST_F(BlockCacheTest, ASharedObjectMadeWithTheAllocatorIsMadeFromTheCache) {
  auto a = make_cached_shared<std::vector<int>>(3, 7);
  const void* first = a.get();
  a.reset();
  const size_t before = testing::allocations;
  auto b = make_cached_shared<std::vector<int>>();  // the vector's own elements: none
  EXPECT_EQ(testing::allocations, before);
  EXPECT_EQ(static_cast<const void*>(b.get()), first);
}

}  // namespace
}  // namespace chaton
