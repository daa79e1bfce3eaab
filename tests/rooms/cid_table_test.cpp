// Tests for CidTable: the comet clients of a room (docs/PROTOCOL.md, "The comet
// long-poll"). Time is passed in, so every case drives it directly; cids come
// from a seeded generator.
#include "rooms/cid_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

namespace chaton {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

constexpr uint64_t kSeed = 12345;
constexpr microseconds kTimeout = seconds(10);

const SysTime kT0 = from_seconds(1732450000);

TEST(CidTableAdmit, KnownCidThatIsNotWaitingGoesOn) {
  CidTable t(kSeed);
  Cid c = t.allocate(kT0);
  auto a = t.admit(c, /*loose_login=*/false, kT0 + seconds(1));
  EXPECT_EQ(a.cid, c);
  EXPECT_FALSE(a.reallocated);
  EXPECT_FALSE(a.dropped.has_value());
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.contains(c));
}

TEST(CidTableAdmit, KnownCidGoesOnAgainAfterReply) {
  CidTable t(kSeed);
  auto first = t.admit(std::nullopt, true, kT0);
  t.replied(first.cid, kT0 + seconds(1));
  auto again = t.admit(first.cid, true, kT0 + seconds(2));
  EXPECT_EQ(again.cid, first.cid);
  EXPECT_FALSE(again.reallocated);
  EXPECT_FALSE(again.dropped.has_value());
  EXPECT_EQ(t.size(), 1u);
}

TEST(CidTableAdmit, UnknownCidWithLooseLoginGetsANewOne) {
  CidTable t(kSeed);
  const Cid unknown = 4242;
  auto a = t.admit(unknown, /*loose_login=*/true, kT0);
  EXPECT_NE(a.cid, kExpiredCid);
  EXPECT_NE(a.cid, unknown);
  EXPECT_TRUE(a.reallocated);
  EXPECT_FALSE(a.dropped.has_value());
  EXPECT_TRUE(t.contains(a.cid));
  EXPECT_FALSE(t.contains(unknown));
  EXPECT_EQ(t.size(), 1u);
}

TEST(CidTableAdmit, UnknownCidWithoutLooseLoginIsExpired) {
  CidTable t(kSeed);
  auto a = t.admit(Cid{4242}, /*loose_login=*/false, kT0);
  EXPECT_EQ(a.cid, kExpiredCid);
  EXPECT_FALSE(a.reallocated);
  EXPECT_FALSE(a.dropped.has_value());
  EXPECT_EQ(t.size(), 0u);
}

TEST(CidTableAdmit, AbsentCidWithLooseLoginGetsANewOne) {
  CidTable t(kSeed);
  auto a = t.admit(std::nullopt, true, kT0);
  EXPECT_GE(a.cid, 0);
  EXPECT_LT(a.cid, kCidLimit);
  EXPECT_TRUE(a.reallocated);
  EXPECT_FALSE(a.dropped.has_value());
  EXPECT_EQ(t.size(), 1u);
}

TEST(CidTableAdmit, AbsentCidWithoutLooseLoginIsExpired) {
  CidTable t(kSeed);
  auto a = t.admit(std::nullopt, false, kT0);
  EXPECT_EQ(a.cid, kExpiredCid);
  EXPECT_FALSE(a.reallocated);
  EXPECT_EQ(t.size(), 0u);
}

TEST(CidTableAdmit, TheExpiredMarkerIsAnUnknownCid) {
  CidTable t(kSeed);
  auto refused = t.admit(kExpiredCid, false, kT0);
  EXPECT_EQ(refused.cid, kExpiredCid);
  auto given = t.admit(kExpiredCid, true, kT0);
  EXPECT_TRUE(given.reallocated);
  EXPECT_NE(given.cid, kExpiredCid);
}

TEST(CidTableAdmit, DuplicateGetsANewCidAndTheOldOneIsDropped) {
  for (bool loose : {true, false}) {
    SCOPED_TRACE(loose ? "loose login" : "strict login");
    CidTable t(kSeed);
    Cid old = t.allocate(kT0);
    ASSERT_EQ(t.admit(old, loose, kT0).cid, old);  // now waiting
    auto dup = t.admit(old, loose, kT0 + seconds(1));
    EXPECT_NE(dup.cid, kExpiredCid);
    EXPECT_NE(dup.cid, old);
    EXPECT_TRUE(dup.reallocated);
    ASSERT_TRUE(dup.dropped.has_value());
    EXPECT_EQ(*dup.dropped, old);
    EXPECT_FALSE(t.contains(old));
    EXPECT_TRUE(t.contains(dup.cid));
    EXPECT_EQ(t.size(), 1u);
  }
}

TEST(CidTableAdmit, TheNewCidOfADuplicateIsWaitingItself) {
  CidTable t(kSeed);
  auto first = t.admit(std::nullopt, true, kT0);
  auto dup = t.admit(first.cid, true, kT0);
  auto dup2 = t.admit(dup.cid, true, kT0);
  ASSERT_TRUE(dup2.dropped.has_value());
  EXPECT_EQ(*dup2.dropped, dup.cid);
  EXPECT_EQ(t.size(), 1u);
}

TEST(CidTableAdmit, AHeldCidIsADuplicate) {
  CidTable t(kSeed);
  Cid c = t.allocate(kT0);
  t.hold(c);
  auto dup = t.admit(c, true, kT0);
  ASSERT_TRUE(dup.dropped.has_value());
  EXPECT_EQ(*dup.dropped, c);
  EXPECT_FALSE(t.contains(c));
}

TEST(CidTableAllocate, NewEntryIsNotWaiting) {
  CidTable t(kSeed);
  Cid c = t.allocate(kT0);
  EXPECT_TRUE(t.contains(c));
  EXPECT_EQ(t.size(), 1u);
  // Not waiting: its first request goes on with the same cid ...
  auto a = t.admit(c, false, kT0);
  EXPECT_EQ(a.cid, c);
  EXPECT_FALSE(a.reallocated);
  // ... and it expires like an idle one when never used.
  CidTable u(kSeed);
  Cid d = u.allocate(kT0);
  EXPECT_EQ(u.sweep(kT0 + kTimeout + microseconds(1), kTimeout), std::vector<Cid>{d});
}

TEST(CidTableAllocate, CidsAreDistinct) {
  CidTable t(kSeed);
  std::set<Cid> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(t.allocate(kT0));
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(t.size(), 1000u);
}

TEST(CidTableReplied, MarksNotWaitingAndRestartsTheIdleClock) {
  CidTable t(kSeed);
  Cid c = t.admit(std::nullopt, true, kT0).cid;
  // Waiting: never swept, however long.
  EXPECT_TRUE(t.sweep(kT0 + seconds(3600), kTimeout).empty());
  t.replied(c, kT0 + seconds(3600));
  EXPECT_TRUE(t.sweep(kT0 + seconds(3610), kTimeout).empty());
  EXPECT_EQ(t.sweep(kT0 + seconds(3610) + microseconds(1), kTimeout), std::vector<Cid>{c});
}

TEST(CidTableReplied, AfterReplyTheSameCidIsNotADuplicate) {
  CidTable t(kSeed);
  Cid c = t.admit(std::nullopt, true, kT0).cid;
  t.replied(c, kT0);
  auto a = t.admit(c, true, kT0);
  EXPECT_EQ(a.cid, c);
  EXPECT_FALSE(a.dropped.has_value());
}

TEST(CidTableReplied, UnknownCidIsIgnored) {
  CidTable t(kSeed);
  t.replied(777, kT0);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.contains(777));
}

TEST(CidTableSweep, BoundaryIsStrictlyMoreThanTheTimeout) {
  CidTable t(kSeed);
  Cid c = t.allocate(kT0);
  EXPECT_TRUE(t.sweep(kT0 + kTimeout, kTimeout).empty()) << "exactly the timeout: kept";
  EXPECT_TRUE(t.contains(c));
  auto gone = t.sweep(kT0 + kTimeout + microseconds(1), kTimeout);
  EXPECT_EQ(gone, std::vector<Cid>{c});
  EXPECT_FALSE(t.contains(c));
  EXPECT_EQ(t.size(), 0u);
}

// Many entries, idle ones among waiting ones: one sweep removes every idle
// one as it walks the table, and leaves the rest and the count right.
TEST(CidTableSweep, RemovesEveryIdleEntryAmongManyInOneWalk) {
  CidTable t(kSeed);
  std::set<Cid> idle, waiting;
  for (int i = 0; i < 300; ++i) {
    Cid c = t.allocate(kT0);
    if (i % 3 == 0) {
      ASSERT_EQ(t.admit(c, false, kT0).cid, c);
      waiting.insert(c);
    } else {
      idle.insert(c);
    }
  }
  auto gone = t.sweep(kT0 + kTimeout + microseconds(1), kTimeout);
  EXPECT_EQ(std::set<Cid>(gone.begin(), gone.end()), idle);
  EXPECT_EQ(gone.size(), idle.size()) << "a cid swept twice";
  EXPECT_EQ(t.size(), waiting.size());
  EXPECT_EQ(t.counted(), waiting.size());
  for (Cid c : waiting) EXPECT_TRUE(t.contains(c));
}

TEST(CidTableSweep, DropsOnlyIdleEntriesNeverWaitingOnes) {
  CidTable t(kSeed);
  Cid idle_old = t.allocate(kT0);
  Cid idle_recent = t.allocate(kT0 + seconds(5));
  Cid waiting = t.admit(std::nullopt, true, kT0).cid;
  Cid held = t.allocate(kT0);
  t.hold(held);
  auto gone = t.sweep(kT0 + seconds(12), kTimeout);
  EXPECT_EQ(gone, std::vector<Cid>{idle_old});
  EXPECT_TRUE(t.contains(idle_recent));
  EXPECT_TRUE(t.contains(waiting));
  EXPECT_TRUE(t.contains(held));
  EXPECT_EQ(t.size(), 3u);

  gone = t.sweep(kT0 + seconds(1000), kTimeout);
  EXPECT_EQ(gone, std::vector<Cid>{idle_recent});
  EXPECT_TRUE(t.contains(waiting));
  EXPECT_TRUE(t.contains(held));
}

TEST(CidTableSweep, UsesTheGivenTimeout) {
  CidTable t(kSeed);
  Cid c = t.allocate(kT0);
  EXPECT_TRUE(t.sweep(kT0 + seconds(2), seconds(2)).empty());
  EXPECT_EQ(t.sweep(kT0 + seconds(2) + microseconds(1), seconds(2)), std::vector<Cid>{c});
}

TEST(CidTableSweep, AClockThatWentBackDropsNothing) {
  CidTable t(kSeed);
  t.allocate(kT0);
  EXPECT_TRUE(t.sweep(kT0 - seconds(60), kTimeout).empty());
  EXPECT_EQ(t.size(), 1u);
}

TEST(CidTableHold, HeldIsWaitingUntilReplied) {
  CidTable t(kSeed);
  Cid c = t.allocate(kT0);
  t.hold(c);
  EXPECT_TRUE(t.sweep(kT0 + seconds(600), kTimeout).empty());
  t.replied(c, kT0 + seconds(600));
  EXPECT_TRUE(t.sweep(kT0 + seconds(610), kTimeout).empty());
  EXPECT_EQ(t.sweep(kT0 + seconds(611), kTimeout), std::vector<Cid>{c});
}

TEST(CidTableHold, UnknownCidIsIgnored) {
  CidTable t(kSeed);
  t.hold(99);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.contains(99));
}

TEST(CidTableSize, IsTheNumberOfChatters) {
  CidTable t(kSeed);
  EXPECT_EQ(t.size(), 0u);
  Cid a = t.allocate(kT0);
  Cid b = t.admit(std::nullopt, true, kT0).cid;
  t.admit(std::nullopt, true, kT0);
  EXPECT_EQ(t.size(), 3u);
  t.admit(b, true, kT0);  // duplicate: one in, one out
  EXPECT_EQ(t.size(), 3u);
  t.admit(Cid{-5}, false, kT0);  // refused
  EXPECT_EQ(t.size(), 3u);
  t.admit(a, true, kT0);  // goes on
  EXPECT_EQ(t.size(), 3u);
}

// One address cannot inflate the chatters count with cheap requests (each
// apilogin, or comet without c, makes a cid): it counts for at most
// kCountedCidsPerAddress, though every one of its cids is served.
TEST(CidTableCount, OneAddressCountsAtMostTheCap) {
  CidTable t(kSeed);
  const size_t cap = kCountedCidsPerAddress;
  std::vector<Cid> flood;
  for (size_t i = 0; i < 3 * cap; ++i) {
    flood.push_back(i % 2 ? t.allocate(kT0, "198.51.100.7")
                          : t.admit(std::nullopt, true, kT0, "198.51.100.7").cid);
  }
  Cid other = t.allocate(kT0, "203.0.113.9");
  t.admit(std::nullopt, true, kT0, "203.0.113.9");
  t.allocate(kT0);  // no owner: not capped
  EXPECT_EQ(t.size(), 3 * cap + 3);
  EXPECT_EQ(t.counted(), cap + 3);
  for (Cid c : flood) EXPECT_TRUE(t.contains(c));

  // A duplicate drops one entry and adds one: the count stays.
  t.admit(flood[0], true, kT0, "198.51.100.7");
  EXPECT_EQ(t.counted(), cap + 3);

  // As the flood expires, the address counts for what it still holds.
  for (Cid c : flood) t.replied(c, kT0);
  t.sweep(kT0 + kTimeout + seconds(1), kTimeout);
  EXPECT_FALSE(t.contains(other));
  EXPECT_EQ(t.size(), 2u);  // the waiting ones: the duplicate's new cid and 203.0.113.9's
  EXPECT_EQ(t.counted(), 2u);
}

TEST(CidTableCount, ManyAddressesAreEachCounted) {
  CidTable t(kSeed);
  for (int i = 0; i < 100; ++i) t.allocate(kT0, "192.0.2." + std::to_string(i));
  EXPECT_EQ(t.counted(), 100u);
  t.sweep(kT0 + kTimeout + seconds(1), kTimeout);
  EXPECT_EQ(t.counted(), 0u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(CidTableRange, CidsAreBelowTheLimit) {
  CidTable t(kSeed);
  for (int i = 0; i < 2000; ++i) {
    Cid c = i % 2 ? t.allocate(kT0) : t.admit(std::nullopt, true, kT0).cid;
    ASSERT_GE(c, 0);
    ASSERT_LT(c, kCidLimit);
  }
}

TEST(CidTableSeed, SameSeedSameCids) {
  CidTable a(kSeed), b(kSeed), c(kSeed + 1);
  std::vector<Cid> va, vb, vc;
  for (int i = 0; i < 50; ++i) {
    va.push_back(a.allocate(kT0));
    vb.push_back(b.allocate(kT0));
    vc.push_back(c.allocate(kT0));
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  // Admission draws from the same generator.
  CidTable d(kSeed), e(kSeed);
  EXPECT_EQ(d.admit(std::nullopt, true, kT0).cid, e.admit(std::nullopt, true, kT0).cid);
  EXPECT_EQ(d.admit(Cid{1}, true, kT0).cid, e.admit(Cid{1}, true, kT0).cid);
}

}  // namespace
}  // namespace chaton

namespace chaton {
namespace {

// A reload begins an epoch: every entry then is behind until told, one
// at a time; entries made after it never are. Telling one twice, or
// dropping one that is behind, leaves the others behind.
TEST(CidTableEpoch, EveryEntryIsBehindAfterANewEpochUntilCaughtUp) {
  CidTable t(kSeed);
  Cid a = t.allocate(kT0), b = t.allocate(kT0), c = t.allocate(kT0);
  EXPECT_FALSE(t.behind(a));
  t.begin_epoch();
  Cid fresh = t.allocate(kT0);
  EXPECT_FALSE(t.behind(fresh));
  EXPECT_TRUE(t.behind(a) && t.behind(b) && t.behind(c));
  t.caught_up(a);
  t.caught_up(a);
  EXPECT_FALSE(t.behind(a));
  EXPECT_TRUE(t.behind(b));
  t.hold(b);
  EXPECT_TRUE(t.admit(b, true, kT0).dropped.has_value());  // a duplicate drops b, behind
  EXPECT_TRUE(t.behind(c));
  t.caught_up(c);
  EXPECT_FALSE(t.behind(c));
  t.begin_epoch();
  EXPECT_TRUE(t.behind(a) && t.behind(c) && t.behind(fresh));
  EXPECT_FALSE(t.behind(Cid{kCidLimit + 1})) << "unknown: not behind";
}

// A client started over after a reload may be given a new cid instead:
// an entry like its own, counted in its place, waiting as the old one was.
// The old cid stays, retired: not counted, behind, so a client that comes
// back with it (the reply was lost) is counted again and started over again.
TEST(CidTableEpoch, ARenewedCidTakesTheOldOnesPlaceAndTheOldOneIsRetired) {
  CidTable t(kSeed);
  Cid waiting = t.admit(std::nullopt, true, kT0, "192.0.2.1").cid;
  Cid idle = t.allocate(kT0, "192.0.2.1");
  t.begin_epoch();
  ASSERT_TRUE(t.behind(waiting));
  t.caught_up(waiting);  // as delta_since() does before the renewal
  std::optional<Cid> renewed = t.renew(waiting, kT0 + seconds(1));
  ASSERT_TRUE(renewed);
  EXPECT_NE(*renewed, waiting);
  EXPECT_FALSE(t.behind(*renewed));
  EXPECT_TRUE(t.behind(waiting)) << "retired: behind";
  EXPECT_TRUE(t.behind(idle));
  EXPECT_EQ(t.counted(), 2u);
  EXPECT_FALSE(t.renew(waiting, kT0)) << "retired already";
  EXPECT_TRUE(t.admit(*renewed, true, kT0).dropped) << "still waiting: a second request is a duplicate";

  // Back with the retired cid: admitted (not a duplicate), counted, behind.
  auto back = t.admit(waiting, false, kT0 + seconds(2));
  EXPECT_EQ(back.cid, waiting);
  EXPECT_FALSE(back.reallocated);
  EXPECT_TRUE(t.behind(waiting));
  EXPECT_EQ(t.counted(), 3u);
  t.caught_up(waiting);
  t.caught_up(idle);
  EXPECT_FALSE(t.behind(waiting) || t.behind(idle));
  t.begin_epoch();
  EXPECT_TRUE(t.behind(idle)) << "the behind count stayed right";
}

// A reload between a client's delta and its renewal: the new cid keeps the
// epoch of the delta, so the client is started over again.
TEST(CidTableEpoch, ARenewedCidKeepsTheEpochItsClientSaw) {
  CidTable t(kSeed);
  Cid cid = t.admit(std::nullopt, true, kT0).cid;
  t.begin_epoch();
  t.caught_up(cid);
  t.begin_epoch();  // a reload before the renewal
  std::optional<Cid> renewed = t.renew(cid, kT0);
  ASSERT_TRUE(renewed);
  EXPECT_TRUE(t.behind(*renewed));
  t.caught_up(*renewed);
  EXPECT_FALSE(t.behind(*renewed));
}

// Renewing the cids of one address over its cap keeps its count at the cap,
// and retired cids go at the sweep without leaving a count behind.
TEST(CidTableEpoch, RenewingKeepsAnAddresssCountAtItsCap) {
  CidTable t(kSeed);
  std::vector<Cid> cids;
  for (size_t i = 0; i < kCountedCidsPerAddress + 4; ++i) cids.push_back(t.allocate(kT0, "192.0.2.1"));
  t.begin_epoch();
  for (Cid c : cids) {
    t.caught_up(c);
    ASSERT_TRUE(t.renew(c, kT0));
    EXPECT_EQ(t.counted(), kCountedCidsPerAddress);
  }
  EXPECT_EQ(t.sweep(kT0 + seconds(60), kTimeout).size(), 2 * cids.size());
  EXPECT_EQ(t.counted(), 0u);
  EXPECT_EQ(t.size(), 0u);
  Cid next = t.allocate(kT0, "192.0.2.1");
  EXPECT_EQ(t.counted(), 1u) << "nothing of the address was left counted";
  EXPECT_FALSE(t.behind(next));
}

TEST(CidTableElsewhere, ACidAnotherNodeGaveOutIsAdmittedAsKnown) {
  CidTable t(kSeed);
  t.known_elsewhere(4242, kT0);
  auto a = t.admit(Cid{4242}, /*loose_login=*/false, kT0 + seconds(1));
  EXPECT_EQ(a.cid, 4242);
  EXPECT_FALSE(a.reallocated);
  EXPECT_TRUE(t.contains(4242));
  EXPECT_EQ(t.counted(), 1u);
  EXPECT_EQ(t.known_elsewhere_count(), 0u);
  // Unknown anywhere: still expired.
  EXPECT_EQ(t.admit(Cid{7}, false, kT0).cid, kExpiredCid);
}

TEST(CidTableElsewhere, ASweptCidComesBackAndOldOnesAreForgotten) {
  CidTable t(kSeed);
  Cid c = t.allocate(kT0);
  std::vector<Cid> gone = t.sweep(kT0 + seconds(11), kTimeout, /*remember=*/true);
  ASSERT_EQ(gone, std::vector<Cid>{c});
  EXPECT_EQ(t.admit(c, false, kT0 + seconds(20)).cid, c);
  EXPECT_FALSE(t.behind(c));
  t.known_elsewhere(99, kT0);
  t.sweep(kT0 + kElsewhereMemory + seconds(1), kTimeout);
  EXPECT_EQ(t.admit(Cid{99}, false, kT0 + kElsewhereMemory + seconds(2)).cid, kExpiredCid);
}

// A swept cid keeps the epoch its client saw here: one from before a
// reload, or retired by a renewal, is started over when it comes back,
// even after the sweep; so is one heard of before a reload.
TEST(CidTableElsewhere, ASweptCidFromBeforeAReloadIsStillBehindWhenItComesBack) {
  CidTable t(kSeed);
  Cid before = t.allocate(kT0);
  Cid renewed = t.allocate(kT0);
  t.begin_epoch();
  t.caught_up(renewed);
  ASSERT_TRUE(t.renew(renewed, kT0));       // `renewed` is retired
  t.known_elsewhere(4242, kT0);             // its numbering not known: the one it comes in
  t.known_elsewhere(4343, kT0, t.epoch());  // heard of in this epoch
  t.begin_epoch();
  t.sweep(kT0 + seconds(11), kTimeout, /*remember=*/true);
  ASSERT_FALSE(t.contains(before) || t.contains(renewed));
  t.known_elsewhere(renewed, kT0 + seconds(12));  // heard of again: keeps its epoch
  for (Cid c : {before, renewed}) {
    EXPECT_EQ(t.admit(c, false, kT0 + seconds(20)).cid, c);
    EXPECT_TRUE(t.behind(c));
  }
  EXPECT_EQ(t.admit(Cid{4242}, false, kT0 + seconds(20)).cid, 4242);
  EXPECT_FALSE(t.behind(4242));
  EXPECT_EQ(t.admit(Cid{4343}, false, kT0 + seconds(20)).cid, 4343);
  EXPECT_TRUE(t.behind(4343));
}

// Once the caller knows the numbering of cids it recorded without one, they
// are in the current epoch, and a later reload puts them behind.
TEST(CidTableElsewhere, SettledCidsAreBehindAfterTheNextReload) {
  CidTable t(kSeed);
  t.begin_epoch();
  t.known_elsewhere(4242, kT0);
  t.settle_elsewhere("1");
  t.known_elsewhere(4343, kT0);  // after the settling: none still
  t.begin_epoch();
  EXPECT_EQ(t.admit(Cid{4242}, false, kT0).cid, 4242);
  EXPECT_TRUE(t.behind(4242));
  EXPECT_EQ(t.admit(Cid{4343}, false, kT0).cid, 4343);
  EXPECT_FALSE(t.behind(4343));
}

// Settled with the numbering now loaded: a cid given in it is current, one
// given in another (older) numbering behind, one whose numbering was not
// said current; each is settled once.
TEST(CidTableElsewhere, SettlingPlacesEachCidByItsNumbering) {
  CidTable t(kSeed);
  t.known_elsewhere(1, kT0, std::nullopt, "2");
  t.known_elsewhere(2, kT0, std::nullopt, "1");
  t.known_elsewhere(3, kT0, std::nullopt);
  t.known_elsewhere(4, kT0, CidTable::kBehindEpoch, "1");
  for (Cid c : {1, 2, 3}) EXPECT_TRUE(t.unsettled(c));
  EXPECT_FALSE(t.unsettled(4));
  t.begin_epoch();
  t.settle_elsewhere("2");
  for (Cid c : {1, 2, 3}) EXPECT_FALSE(t.unsettled(c));
  for (Cid c : {1, 2, 3, 4}) ASSERT_EQ(t.admit(c, false, kT0).cid, c);
  EXPECT_FALSE(t.behind(1));
  EXPECT_TRUE(t.behind(2));
  EXPECT_FALSE(t.behind(3));
  EXPECT_TRUE(t.behind(4));
}

// An unsettled cid that leaves the record (admitted, or forgotten) is no
// longer waited for.
TEST(CidTableElsewhere, AnUnsettledCidForgottenIsNotCounted) {
  CidTable t(kSeed);
  t.known_elsewhere(1, kT0, std::nullopt, "2");
  t.sweep(kT0 + kElsewhereMemory + seconds(1), kTimeout);
  EXPECT_FALSE(t.knows(1));
  EXPECT_FALSE(t.unsettled(1));
  t.known_elsewhere(1, kT0 + kElsewhereMemory + seconds(2), std::nullopt, "2");
  EXPECT_TRUE(t.unsettled(1));
}

}  // namespace
}  // namespace chaton
