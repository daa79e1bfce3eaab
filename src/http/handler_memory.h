// Handler memory: reusable blocks for a session's repeated asynchronous
// operation (a write, a read), so that each frame or chunk written does not
// allocate its operation's state anew.
//
// A session keeps one HandlerMemory per chain of operations that runs one at
// a time (its writes, its reads) and binds it to each completion handler of
// that chain with with_memory(). The memory has kSlots blocks, made on first
// use at the size asked for (an operation, and one nested in it: a
// WebSocket frame's write and the socket send it starts), so a connection
// holds what its operations take and no more; a block is made again, larger,
// when a larger state comes while it is free. A state that finds no free
// block (or is larger than kBytes) comes from operator new as usual. A block
// is free again once its operation has completed: Asio and Beast hand an
// operation's memory back before they call (or destroy) its handler.
//
// Thread-safety: none of its own. A chain's allocations and deallocations
// are ordered one after the other (each operation starts from the previous
// one's handler, which runs on the session's strand after the memory was
// handed back), which is all this needs; two chains use two memories.
// Lifetime: the HandlerMemory must outlive every handler bound to it; a
// session that owns it and whose handlers own the session satisfies this.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

#include <boost/asio/bind_allocator.hpp>

namespace chaton::http {

class HandlerMemory {
 public:
  // The largest state kept for reuse (a WebSocket frame write over TLS fits).
  static constexpr std::size_t kBytes = 4096;
  static constexpr std::size_t kSlots = 2;

  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;
  ~HandlerMemory() {
    for (auto& slot : slots_) drop(slot);
  }

  // Whether a block holds an operation's state now.
  bool in_use() const {
    for (const auto& slot : slots_)
      if (slot.in_use) return true;
    return false;
  }
  // The bytes of the blocks made so far (what the connection holds).
  std::size_t held_bytes() const {
    std::size_t n = 0;
    for (const auto& slot : slots_) n += slot.size;
    return n;
  }

  void* allocate(std::size_t bytes, std::size_t align) {
    if (bytes <= kBytes && align <= alignof(std::max_align_t)) {
      Slot* fits = nullptr;     // the smallest free block that fits
      Slot* largest = nullptr;  // else the largest free one, made again
      for (auto& slot : slots_) {
        if (slot.in_use) continue;
        if (slot.size >= bytes && (!fits || slot.size < fits->size)) fits = &slot;
        if (!largest || slot.size > largest->size) largest = &slot;
      }
      if (!fits && largest) {
        drop(*largest);
        size_t size = (bytes + kRound - 1) / kRound * kRound;
        // Made before the slot says it has it: if this throws, the slot stays empty.
        largest->block = static_cast<unsigned char*>(::operator new(size));
        largest->size = size;
        fits = largest;
      }
      if (fits) {
        fits->in_use = true;
        return fits->block;
      }
    }
    if (align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes);
    return ::operator new (bytes, std::align_val_t{align});
  }

  void deallocate(void* p, std::size_t bytes, std::size_t align) noexcept {
    for (auto& slot : slots_) {
      if (p == slot.block && slot.in_use) {
        slot.in_use = false;
        return;
      }
    }
    if (align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator delete(p, bytes);
    ::operator delete (p, bytes, std::align_val_t{align});
  }

 private:
  static constexpr std::size_t kRound = 64;
  struct Slot {
    unsigned char* block = nullptr;
    std::size_t size = 0;
    bool in_use = false;
  };
  static void drop(Slot& slot) {
    if (slot.block) ::operator delete(slot.block, slot.size);
    slot.block = nullptr;
    slot.size = 0;
  }

  Slot slots_[kSlots];
};

// A standard allocator over one HandlerMemory (what Asio and Beast ask a
// handler for through its associated allocator).
template <class T>
class HandlerAllocator {
 public:
  using value_type = T;

  explicit HandlerAllocator(HandlerMemory& memory) noexcept : memory_(&memory) {}
  template <class U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { memory_->deallocate(p, n * sizeof(T), alignof(T)); }

  template <class U>
  bool operator==(const HandlerAllocator<U>& other) const noexcept {
    return memory_ == other.memory_;
  }

 private:
  template <class>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

// `handler`, whose operations take their memory from `memory`.
template <class Handler>
auto with_memory(HandlerMemory& memory, Handler&& handler) {
  return boost::asio::bind_allocator(HandlerAllocator<void>(memory), std::forward<Handler>(handler));
}

}  // namespace chaton::http
