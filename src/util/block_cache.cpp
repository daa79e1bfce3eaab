// Block cache: see block_cache.h.
#include "util/block_cache.h"

#include <algorithm>
#include <array>
#include <vector>

#include "util/sanitizers.h"

namespace chaton::block_cache {

namespace {

constexpr bool kCaching = !CHATON_ADDRESS_SANITIZER;

// Class c holds blocks of (c + 1) * kGrain - kHeader bytes: glibc's malloc
// keeps a block in a chunk of a multiple of 16 bytes with an 8-byte header,
// so a block of that size fills its chunk, and a class takes no more memory
// than malloc would for any size it serves.
constexpr std::size_t kHeader = 8;
constexpr std::size_t kClasses = (kLargestBlock + kHeader + kGrain - 1) / kGrain;
std::size_t class_of(std::size_t bytes) { return (bytes + kHeader - 1) / kGrain; }
std::size_t class_bytes(std::size_t c) { return (c + 1) * kGrain - kHeader; }
// A stack's first size, in pointers; it doubles from there.
constexpr std::size_t kFirstSlots = 16;

// Gives a block of `bytes`, made by ::operator new(bytes), back to the heap,
// at its size where the compiler has sized deallocation.
void heap_free(void* block, std::size_t bytes) noexcept {
#if defined(__cpp_sized_deallocation)
  ::operator delete(block, bytes);
#else
  (void)bytes;
  ::operator delete(block);
#endif
}

// Set by use_on_this_thread(); cleared by stop_on_this_thread() and when
// this thread's cache has been destroyed (its thread ends): later frees on
// it (another thread-local's destructor) go to the heap.
thread_local bool t_on = false;

// Each class's free blocks are a stack of pointers, not a list linked
// through the blocks: taking one reads the stack's top, which a run of
// allocations walks in order, and not the block, which has gone cold since
// it was freed (its new owner writes it first).
struct Cache {
  std::array<std::vector<void*>, kClasses> free;
  std::size_t block_bytes = 0;  // of the blocks on the stacks
  std::size_t slot_bytes = 0;   // of the stacks' capacity

  Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;
  ~Cache() {
    drop();
    t_on = false;
  }

  std::size_t bytes() const { return block_bytes + slot_bytes; }

  // Keeps `block` of class c, unless that would pass the bound.
  bool push(std::size_t c, void* block) noexcept {
    std::vector<void*>& stack = free[c];
    const std::size_t slots = stack.capacity();
    const std::size_t grown = stack.size() < slots ? slots : std::max(kFirstSlots, 2 * slots);
    const std::size_t more = class_bytes(c) + (grown - slots) * sizeof(void*);
    if (bytes() + more > kMaxCachedBytes) return false;
    if (grown != slots) {
      try {
        stack.reserve(grown);
      } catch (...) {  // no room for the pointer: the block goes to the heap
        return false;
      }
      slot_bytes += (stack.capacity() - slots) * sizeof(void*);
    }
    stack.push_back(block);
    block_bytes += class_bytes(c);
    return true;
  }

  void* pop(std::size_t c) noexcept {
    std::vector<void*>& stack = free[c];
    if (stack.empty()) return nullptr;
    void* b = stack.back();
    stack.pop_back();
    block_bytes -= class_bytes(c);
    return b;
  }

  void drop() noexcept {
    for (std::size_t c = 0; c < kClasses; ++c) {
      for (void* b : free[c]) heap_free(b, class_bytes(c));
      std::vector<void*>().swap(free[c]);
    }
    block_bytes = 0;
    slot_bytes = 0;
  }
};

thread_local Cache t_cache;

}  // namespace

void use_on_this_thread() noexcept {
  if (!kCaching || t_on) return;
  // Made now (it holds nothing yet), so that it is destroyed, and t_on
  // cleared, as the thread ends.
  static_cast<void>(t_cache.bytes());
  t_on = true;
}

void stop_on_this_thread() noexcept {
  release();
  t_on = false;
}

void* allocate(std::size_t bytes) {
  if (!kCaching || bytes > kLargestBlock) return ::operator new(bytes);
  const std::size_t c = class_of(bytes);
  if (t_on) {
    if (void* b = t_cache.pop(c)) return b;
  }
  return ::operator new(class_bytes(c));
}

void deallocate(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  if (!kCaching || bytes > kLargestBlock) return heap_free(block, bytes);
  const std::size_t c = class_of(bytes);
  if (t_on && t_cache.push(c, block)) return;
  heap_free(block, class_bytes(c));
}

std::size_t block_bytes(std::size_t bytes) noexcept {
  return (!kCaching || bytes > kLargestBlock) ? bytes : class_bytes(class_of(bytes));
}

std::size_t cached_bytes() noexcept { return (kCaching && t_on) ? t_cache.bytes() : 0; }

void release() noexcept {
  if (kCaching && t_on) t_cache.drop();
}

}  // namespace chaton::block_cache
