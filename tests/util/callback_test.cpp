#include "util/callback.h"

#include <array>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

namespace chaton {
namespace {

// Counts what happens to it: calls, moves, destructions of live objects.
struct Tally {
  int calls = 0;
  int moves = 0;
  int destroyed = 0;
};

struct Counted {
  explicit Counted(Tally& t) : tally(&t) {}
  Counted(Counted&& o) noexcept : tally(std::exchange(o.tally, nullptr)) {
    if (tally) ++tally->moves;
  }
  Counted(const Counted&) = delete;
  ~Counted() {
    if (tally) ++tally->destroyed;
  }
  void operator()() { ++tally->calls; }
  Tally* tally;
};

struct Large {  // beyond the inline bytes: kept on the heap
  explicit Large(Tally& t) : c(t) {}
  void operator()() { c(); }
  Counted c;
  std::array<char, 64> ballast{};
};

TEST(CallbackTest, AOwnersSharedPointerAndAPointerAreKeptInside) {
  auto owner = std::make_shared<int>(0);
  auto keeps_owner = [self = owner] { ++*self; };
  auto watches_owner = [weak = std::weak_ptr<int>(owner), raw = owner.get()] { (void)raw; };
  static_assert(Callback::kept_inline<decltype(keeps_owner)>);
  static_assert(Callback::kept_inline<decltype(watches_owner)>);
  static_assert(!Callback::kept_inline<Large>);
  static_assert(sizeof(Callback) == sizeof(std::function<void()>));

  Callback c = keeps_owner;
  EXPECT_EQ(owner.use_count(), 3);  // owner, keeps_owner, the Callback's copy
  c();
  EXPECT_EQ(*owner, 1);
  c = nullptr;
  EXPECT_EQ(owner.use_count(), 2);
}

TEST(CallbackTest, MovingKeepsOneCallableAndEmptiesTheSource) {
  Tally t;
  {
    Callback a{Counted(t)};
    ASSERT_TRUE(a);
    Callback b = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved from is empty
    ASSERT_TRUE(b);
    b();
    Callback c;
    c = std::move(b);
    EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
    c();
    EXPECT_EQ(t.calls, 2);
    EXPECT_EQ(t.destroyed, 0);
  }
  EXPECT_EQ(t.destroyed, 1);  // the one live callable, once
}

TEST(CallbackTest, ALargeCallableGoesToTheHeapAndBehavesTheSame) {
  Tally t;
  {
    Callback a{Large(t)};
    Callback b = std::move(a);
    const int moves = t.moves;
    Callback c = std::move(b);
    EXPECT_EQ(t.moves, moves);  // the heap object itself does not move
    c();
    EXPECT_EQ(t.calls, 1);
  }
  EXPECT_EQ(t.destroyed, 1);
}

TEST(CallbackTest, AssigningReleasesWhatWasHeldFirst) {
  Tally first, second;
  Callback c{Counted(first)};
  c = Callback{Counted(second)};
  EXPECT_EQ(first.destroyed, 1);
  c();
  EXPECT_EQ(second.calls, 1);
  EXPECT_EQ(first.calls, 0);
}

// What a Callback holds may own the one assigned to it: a timer's owner
// whose handler is replaced by one the owner kept.
TEST(CallbackTest, AssigningACallbackThatWhatItHoldsOwnsIsSafe) {
  struct Holder {
    Callback inner;
  };
  Tally t;
  auto holder = std::make_shared<Holder>();
  holder->inner = Counted(t);
  Callback c = [h = holder] { (void)h; };
  Holder* raw = holder.get();
  holder.reset();  // c's closure holds the only reference
  c = std::move(raw->inner);
  c();
  EXPECT_EQ(t.calls, 1);
}

void plain_function() {}

TEST(CallbackTest, AnEmptyFunctionOrNullPointerMakesAnEmptyCallback) {
  EXPECT_TRUE(Callback(plain_function));
  EXPECT_FALSE(Callback());
  EXPECT_FALSE(Callback(nullptr));
  EXPECT_FALSE(Callback(std::function<void()>()));
  void (*none)() = nullptr;
  EXPECT_FALSE(Callback(none));
  int n = 0;
  Callback c(std::function<void()>([&n] { ++n; }));
  ASSERT_TRUE(c);
  c();
  EXPECT_EQ(n, 1);
}

TEST(CallbackTest, AMoveOnlyCallableMayBeOne) {
  auto owned = std::make_unique<int>(41);
  Callback c = [p = std::move(owned)] { ++*p; };
  c();
  SUCCEED();
}

}  // namespace
}  // namespace chaton
