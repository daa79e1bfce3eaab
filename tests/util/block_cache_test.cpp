// The block cache: a freed block serves the next allocation of its size
// class on its thread, without the heap; a block larger than the largest
// class is not kept; a thread keeps at most kMaxCachedBytes, its stacks
// counted; a block freed on another thread joins that thread's cache; the
// allocator and the base class route through it. Only a thread that says so
// caches (a loop's), until it stops or ends, when its blocks go back to the
// heap at their size.
#include "util/block_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
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
  const size_t frees = testing::frees;
  block_cache::deallocate(p, 100);
  EXPECT_EQ(testing::frees, frees);
  const size_t cached = block_cache::cached_bytes();
  EXPECT_GE(cached, block + sizeof(void*));  // the block and its stack
  const size_t before = testing::allocations;
  void* q = block_cache::allocate(block);  // the same class
  EXPECT_EQ(q, p);
  EXPECT_EQ(testing::allocations, before);
  EXPECT_EQ(block_cache::cached_bytes(), cached - block);  // the stack stays
  void* r = block_cache::allocate(block + 1);  // the next class: none cached
  EXPECT_EQ(testing::allocations, before + 1);
  block_cache::deallocate(q, block);
  block_cache::deallocate(r, block + 1);
}

TEST_F(BlockCacheTest, ABlockLargerThanTheLargestClassGoesBackToTheHeap) {
  void* p = block_cache::allocate(kLargestBlock + 1);
  const size_t frees = testing::frees;
  block_cache::deallocate(p, kLargestBlock + 1);
  EXPECT_EQ(block_cache::cached_bytes(), 0u);
  EXPECT_EQ(testing::frees, frees + 1);
}

TEST_F(BlockCacheTest, AThreadKeepsAtMostTheBoundItsStacksCounted) {
  const size_t block = block_cache::block_bytes(kLargestBlock);
  std::vector<void*> blocks(kMaxCachedBytes / block + 10);
  for (auto& b : blocks) b = block_cache::allocate(kLargestBlock);
  size_t kept = 0;  // the blocks the cache took (a block it does not take leaves its bytes alone)
  for (auto* b : blocks) {
    const size_t before = block_cache::cached_bytes();
    block_cache::deallocate(b, kLargestBlock);
    if (block_cache::cached_bytes() > before) ++kept;
  }
  EXPECT_LE(block_cache::cached_bytes(), kMaxCachedBytes);
  EXPECT_GE(block_cache::cached_bytes(), kept * (block + sizeof(void*)));
  EXPECT_GT(kept, kMaxCachedBytes / block / 2);
  EXPECT_LT(kept, blocks.size() - 10);
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
  EXPECT_GE(there, block_cache::block_bytes(100));
  EXPECT_EQ(again, p);
  EXPECT_EQ(block_cache::cached_bytes(), 0u);
}

TEST_F(BlockCacheTest, AThreadThatDoesNotUseTheCacheGivesBlocksBackToTheHeapAtTheirSize) {
  void* p = block_cache::allocate(100);
  size_t frees = 0;
  size_t size = 0;
  std::thread([&] {
    block_cache::deallocate(p, 100);
    frees = testing::frees;
    size = testing::last_freed_size;
  }).join();
  EXPECT_EQ(frees, 1u);
#if defined(__cpp_sized_deallocation)
  EXPECT_EQ(size, block_cache::block_bytes(100));
#endif
}

TEST_F(BlockCacheTest, AThreadThatStopsGivesItsBlocksBackToTheHeap) {
  void* p = block_cache::allocate(100);
  void* q = block_cache::allocate(100);
  block_cache::deallocate(p, 100);
  size_t frees = testing::frees;
  block_cache::stop_on_this_thread();
  EXPECT_EQ(block_cache::cached_bytes(), 0u);
  EXPECT_GE(testing::frees, frees + 1);  // the block (and its stack)
  frees = testing::frees;
  block_cache::deallocate(q, 100);  // no longer cached
  EXPECT_EQ(testing::frees, frees + 1);
  EXPECT_EQ(block_cache::cached_bytes(), 0u);
}

// Reads this thread's count of frees as the thread ends, after the block
// cache (made after it) is gone.
struct FreesAtExit {
  size_t* out;
  ~FreesAtExit() { *out = testing::frees; }
};

TEST_F(BlockCacheTest, AThreadThatEndsGivesItsBlocksBackToTheHeap) {
  size_t before = 0;
  size_t at_exit = 0;
  std::thread([&] {
    thread_local FreesAtExit probe{&at_exit};  // made first, so destroyed last
    (void)probe;
    block_cache::use_on_this_thread();
    std::vector<void*> blocks;
    for (int i = 0; i < 3; ++i) blocks.push_back(block_cache::allocate(100));
    for (void* b : blocks) block_cache::deallocate(b, 100);
    std::vector<void*>().swap(blocks);
    before = testing::frees;
  }).join();
  EXPECT_GE(at_exit, before + 3);
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
  const size_t before = testing::allocations;
  auto b = std::make_unique<Larger>();
  EXPECT_EQ(b.get(), first);
  EXPECT_EQ(testing::allocations, before);
}

// A CachedNew* cannot be deleted: the size it would give back is the base's.
static_assert(!std::is_destructible_v<CachedNew>);

struct alignas(64) Aligned : CachedNew {
  char bytes[64] = {};
};

TEST_F(BlockCacheTest, AClassAlignedBeyondTheDefaultGetsItsAlignment) {
  std::vector<std::unique_ptr<Aligned>> objects;
  for (int i = 0; i < 8; ++i) {
    objects.push_back(std::make_unique<Aligned>());
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(objects.back().get()) % alignof(Aligned), 0u);
  }
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
