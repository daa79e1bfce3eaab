// Callback: a move-only `void()` callable that holds a small one in itself.
//
// What a timer or a connection runs later (a deadline's handler, a long
// poll's "the client went away", a stream's "these bytes are written") is
// nearly always a lambda that keeps its owner alive or watches it: one
// shared_ptr or weak_ptr, perhaps with a pointer or a number. std::function
// in libstdc++ keeps in itself only what is trivially copyable, so each of
// these cost an allocation and a free, several times in every long-poll
// round trip (docs/BENCHMARKS.md, "Allocations per delivery"). A Callback
// keeps any callable of up to kInlineBytes whose move cannot throw in
// itself, and moves it by its own move constructor; a larger one goes to
// the heap, as std::function's would. It is the size of a std::function.
//
// Unlike std::function it is move-only, so a callable that owns what it
// holds (a unique_ptr) may be one, and one is never copied by accident.
//
// Thread-safety: none of its own; like any value, one thread at a time.
#pragma once

#include <cassert>
#include <concepts>
#include <cstddef>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace chaton {

namespace callback_detail {
template <class T>
inline constexpr bool is_std_function = false;
template <class R, class... A>
inline constexpr bool is_std_function<std::function<R(A...)>> = true;
}  // namespace callback_detail

class Callback {
 public:
  static constexpr size_t kInlineBytes = 24;

  // True when `F` is kept inside the Callback (no allocation).
  template <class F>
  static constexpr bool kept_inline =
      sizeof(F) <= kInlineBytes &&
      alignof(F) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<F>;

  Callback() noexcept = default;
  Callback(std::nullptr_t) noexcept {}  // NOLINT: implicit, as std::function's

  template <class F>
  requires(!std::same_as<std::remove_cvref_t<F>, Callback> && std::invocable<std::decay_t<F>&> &&
           std::constructible_from<std::decay_t<F>, F>)
      Callback(F&& f) {  // NOLINT: implicit, as std::function's
    using Fn = std::decay_t<F>;
    // (A function itself, not a pointer to one, is never null.)
    if constexpr (std::is_pointer_v<std::remove_reference_t<F>> || callback_detail::is_std_function<Fn>) {
      if (!f) return;  // an empty callable: an empty Callback
    }
    if constexpr (kept_inline<Fn>) {
      ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
      ops_ = &kInlineOps<Fn>;
    } else {
      ::new (static_cast<void*>(storage_)) Fn*(new Fn(std::forward<F>(f)));
      ops_ = &kHeapOps<Fn>;
    }
  }

  Callback(Callback&& other) noexcept { take(other); }
  Callback& operator=(Callback&& other) noexcept {
    if (this != &other) {
      // Taken first: what this one holds may own `other`.
      Callback taken(std::move(other));
      reset();
      take(taken);
    }
    return *this;
  }
  Callback& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  // Runs the callable; it must be there. Const as std::function's is: a
  // callable kept in a lambda that is not `mutable` may be run.
  void operator()() const {
    assert(ops_ && "an empty Callback was called");
    ops_->call(storage_);
  }

 private:
  struct Ops {
    void (*call)(void* storage);
    // Moves the callable from `from` to `to`, and leaves nothing at `from`.
    void (*move)(void* from, void* to) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  template <class Fn>
  static constexpr Ops kInlineOps{
      [](void* s) { (void)(*std::launder(static_cast<Fn*>(s)))(); },
      [](void* from, void* to) noexcept {
        Fn* f = std::launder(static_cast<Fn*>(from));
        ::new (to) Fn(std::move(*f));
        f->~Fn();
      },
      [](void* s) noexcept { std::launder(static_cast<Fn*>(s))->~Fn(); },
  };
  template <class Fn>
  static constexpr Ops kHeapOps{
      [](void* s) { (void)(**std::launder(static_cast<Fn**>(s)))(); },
      [](void* from, void* to) noexcept { ::new (to) Fn*(*std::launder(static_cast<Fn**>(from))); },
      [](void* s) noexcept { delete *std::launder(static_cast<Fn**>(s)); },
  };

  void take(Callback& other) noexcept {
    if (!other.ops_) return;
    other.ops_->move(other.storage_, storage_);
    ops_ = std::exchange(other.ops_, nullptr);
  }
  void reset() noexcept {
    if (const Ops* ops = std::exchange(ops_, nullptr)) ops->destroy(storage_);
  }

  alignas(std::max_align_t) mutable unsigned char storage_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace chaton
