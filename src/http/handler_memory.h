// Handler memory: one reusable block for a session's repeated asynchronous
// operation (a write, a read), so that each frame or chunk written does not
// allocate its operation's state anew.
//
// A session keeps one HandlerMemory per chain of operations that runs one at
// a time (its writes, its reads) and binds it to each completion handler of
// that chain with with_memory(). An operation's state goes into the block
// when the block is free and large enough; otherwise (the block is in use by
// another allocation of the same chain, or too small) it comes from
// operator new as usual. The block is free again once the operation has
// completed: Asio and Beast hand an operation's memory back before they
// call (or destroy) its handler.
//
// Thread-safety: none of its own. A chain's allocations and deallocations
// are ordered one after the other (each operation starts from the previous
// one's handler, which runs on the session's strand after the memory was
// handed back), which is all this needs; two chains use two blocks.
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
  // Enough for a WebSocket frame write over TLS (Beast's and Asio's nested
  // operation states); a larger request falls back to operator new.
  static constexpr std::size_t kBytes = 2048;

  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  // Whether the block holds an operation's state now.
  bool in_use() const { return in_use_; }

  void* allocate(std::size_t bytes, std::size_t align) {
    if (!in_use_ && bytes <= kBytes && align <= alignof(std::max_align_t)) {
      in_use_ = true;
      return storage_;
    }
    if (align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes);
    return ::operator new (bytes, std::align_val_t{align});
  }

  void deallocate(void* p, std::size_t bytes, std::size_t align) noexcept {
    if (p == storage_) {
      in_use_ = false;
      return;
    }
    if (align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator delete(p, bytes);
    ::operator delete (p, bytes, std::align_val_t{align});
  }

 private:
  alignas(std::max_align_t) unsigned char storage_[kBytes];
  bool in_use_ = false;
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
