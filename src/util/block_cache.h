// Block cache: each thread's cache of freed small blocks, for the objects a
// long-poll round trip makes and lets go of (docs/BENCHMARKS.md, "A round
// trip's objects from a per-thread block cache").
//
// A long-poll fan-out answers the readers of a loop one after the other and
// reads their next requests only once all of them are answered
// (util/burst.h). So each kind of object a waiting reader holds (its
// request's parser, header fields and target, its exchange, long poll and
// timer, its receive's operation) is freed a few thousand times in a row,
// then made again as many times. glibc's own per-thread cache keeps 7
// blocks of a size; the rest go through its bins, where freeing merges
// neighbours and allocating sorts and splits them again: half a percent of
// a delivery's CPU per object. Here a freed block goes on its thread's
// stack of pointers for its size class (kGrain apart, up to kLargestBlock),
// and the next allocation of that class on that thread takes it back: a
// push and a pop of a pointer. A thread keeps at most kMaxCachedBytes,
// counting the stacks themselves; past that, and for larger blocks, the
// global operator new and delete serve as usual.
//
// The cached blocks are memory the waiting readers held a moment before and
// take again after the fan-out; once every reader waits again the stacks
// are about empty. What a thread holds after its readers have gone stays
// until it ends, stops caching or calls release(): it is memory those
// readers held, which glibc, once freed into its bins, would not give back
// to the system either (short of the top of its heap), so nothing trims it
// when idle.
// Only the threads that run the loops cache (each calls use_on_this_thread()
// as it starts, and stop_on_this_thread() when its loop has returned): on
// any other thread (the store's commit thread, which lets go of a posting
// request now and then and makes none) a freed block goes straight back to
// the heap instead of piling up where nothing takes it again. What a
// thread still holds when it ends goes back to the heap.
//
// Checking tools: under AddressSanitizer nothing is cached and every block
// is allocated at the size asked for and freed at that size (where the
// compiler has sized deallocation), so an overflow past the size asked for,
// a use after free and a delete at the wrong size are all reported. Other
// tools (Valgrind, HWASan, ThreadSanitizer) see a cached block as still
// allocated: a use after free of one goes unseen there.
// The size classes are fitted to 64-bit glibc's chunks (an 8-byte header,
// 16-byte steps); on another allocator they only round up a little.
//
// Use: CachedAllocator<T> (std::allocate_shared, containers, Beast's fields,
// an Asio handler's associated allocator), or derive from CachedNew for a
// class's own operator new and delete.
//
// Thread-safety: every function works on the calling thread's cache; a
// block may be freed on another thread than the one that allocated it (it
// joins the freeing thread's cache). Lifetime: none; a block freed after its
// thread's cache is gone goes straight back to the heap.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace chaton {

namespace block_cache {

// Size classes kGrain bytes apart (as glibc's malloc rounds), up to
// kLargestBlock bytes.
inline constexpr std::size_t kGrain = 16;
inline constexpr std::size_t kLargestBlock = 1024;
// The most bytes one thread keeps in freed blocks and the stacks of
// pointers to them (about 5,000 readers' worth of a long poll's objects).
inline constexpr std::size_t kMaxCachedBytes = std::size_t{8} << 20;

// From now on this thread keeps the blocks freed on it (a loop's thread).
void use_on_this_thread() noexcept;
// From now on this thread gives freed blocks back to the heap, as it gives
// back what it holds now (its loop has returned).
void stop_on_this_thread() noexcept;

// A block of at least `bytes` (aligned as operator new's), from this
// thread's cache when it holds one of its class. Throws std::bad_alloc.
[[nodiscard]] void* allocate(std::size_t bytes);
// Gives back a block from allocate(`bytes`), the same size asked for.
void deallocate(void* block, std::size_t bytes) noexcept;

// The bytes of the block that serves an allocation of `bytes`.
std::size_t block_bytes(std::size_t bytes) noexcept;
// The bytes this thread's cache holds now: its blocks and its stacks.
std::size_t cached_bytes() noexcept;
// Hands this thread's cached blocks back to the heap.
void release() noexcept;

}  // namespace block_cache

// An allocator over the block cache; stateless, so any two compare equal.
// A type aligned beyond operator new's default is allocated as usual.
template <class T>
class CachedAllocator {
 public:
  using value_type = T;

  CachedAllocator() noexcept = default;
  template <class U>
  CachedAllocator(const CachedAllocator<U>&) noexcept {}  // NOLINT: implicit, as allocators convert

  [[nodiscard]] T* allocate(std::size_t n) {
    if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      return std::allocator<T>().allocate(n);
    } else {
      if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
      return static_cast<T*>(block_cache::allocate(n * sizeof(T)));
    }
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      std::allocator<T>().deallocate(p, n);
    } else {
      block_cache::deallocate(p, n * sizeof(T));
    }
  }

  template <class U>
  bool operator==(const CachedAllocator<U>&) const noexcept {
    return true;
  }
};

// std::make_shared, with the object and its count in one cached block.
template <class T, class... Args>
std::shared_ptr<T> make_cached_shared(Args&&... args) {
  return std::allocate_shared<T>(CachedAllocator<T>(), std::forward<Args>(args)...);
}

// A base whose operator new and delete use the block cache: `new T` of a
// class derived from it (std::make_unique included) takes a cached block,
// and deleting it gives the block back at the size it was made with. So a
// derived object is deleted through its own type, or through a base with a
// virtual destructor; CachedNew's own destructor is protected, so that a
// CachedNew* cannot be deleted. A class aligned beyond operator new's
// default is allocated by the global aligned operators, as usual.
struct CachedNew {
  static void* operator new(std::size_t bytes) { return block_cache::allocate(bytes); }
  static void operator delete(void* block, std::size_t bytes) noexcept {
    block_cache::deallocate(block, bytes);
  }
  static void* operator new(std::size_t bytes, std::align_val_t align) {
    return ::operator new(bytes, align);
  }
  // Unsized on purpose: with only a sized aligned delete, clang frees
  // nothing when a constructor throws.
  static void operator delete(void* block, std::align_val_t align) noexcept {
    ::operator delete(block, align);
  }

 protected:
  CachedNew() = default;
  ~CachedNew() = default;
};

}  // namespace chaton
