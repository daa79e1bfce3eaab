// Block cache: see block_cache.h.
#include "util/block_cache.h"

#include <array>
#include <vector>

namespace chaton::block_cache {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCaching = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kCaching = false;
#else
constexpr bool kCaching = true;
#endif
#else
constexpr bool kCaching = true;
#endif

// Class c holds blocks of (c + 1) * kGrain - kHeader bytes: glibc's malloc
// keeps a block in a chunk of a multiple of 16 bytes with an 8-byte header,
// so a block of that size fills its chunk, and a class takes no more memory
// than malloc would for any size it serves.
constexpr std::size_t kHeader = 8;
constexpr std::size_t kClasses = (kLargestBlock + kHeader + kGrain - 1) / kGrain;
std::size_t class_of(std::size_t bytes) { return (bytes + kHeader - 1) / kGrain; }
std::size_t class_bytes(std::size_t c) { return (c + 1) * kGrain - kHeader; }

// Set by use_on_this_thread(); cleared when this thread's cache has been
// destroyed (its thread ends): later frees on it (another thread-local's
// destructor) go to the heap.
thread_local bool t_on = false;

// Each class's free blocks are a stack of pointers, not a list linked
// through the blocks: taking one reads the stack's top, which a run of
// allocations walks in order, and not the block, which has gone cold since
// it was freed (its new owner writes it first).
struct Cache {
  std::array<std::vector<void*>, kClasses> free;
  std::size_t bytes = 0;

  Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;
  ~Cache() {
    drop();
    t_on = false;
  }

  void drop() noexcept {
    for (std::size_t c = 0; c < kClasses; ++c) {
      for (void* b : free[c]) ::operator delete(b);
      std::vector<void*>().swap(free[c]);
    }
    bytes = 0;
  }
};

thread_local Cache t_cache;

}  // namespace

void use_on_this_thread() noexcept {
  if (!kCaching || t_on) return;
  // Made now (it holds nothing yet), so that it is destroyed, and t_on
  // cleared, as the thread ends.
  t_cache.bytes = 0;
  t_on = true;
}

void* allocate(std::size_t bytes) {
  if (bytes > kLargestBlock) return ::operator new(bytes);
  const std::size_t c = class_of(bytes);
  if (kCaching && t_on) {
    Cache& cache = t_cache;
    if (auto& stack = cache.free[c]; !stack.empty()) {
      void* b = stack.back();
      stack.pop_back();
      cache.bytes -= class_bytes(c);
      return b;
    }
  }
  return ::operator new(class_bytes(c));
}

void deallocate(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  if (bytes > kLargestBlock) return ::operator delete(block);
  const std::size_t c = class_of(bytes);
  if (kCaching && t_on) {
    Cache& cache = t_cache;
    if (cache.bytes + class_bytes(c) <= kMaxCachedBytes) {
      try {
        cache.free[c].push_back(block);
        cache.bytes += class_bytes(c);
        return;
      } catch (const std::bad_alloc&) {  // no room for the pointer: the block goes to the heap
      }
    }
  }
  ::operator delete(block);
}

std::size_t block_bytes(std::size_t bytes) noexcept {
  return bytes > kLargestBlock ? bytes : class_bytes(class_of(bytes));
}

std::size_t cached_bytes() noexcept { return (kCaching && t_on) ? t_cache.bytes : 0; }

void release() noexcept {
  if (kCaching && t_on) t_cache.drop();
}

}  // namespace chaton::block_cache
