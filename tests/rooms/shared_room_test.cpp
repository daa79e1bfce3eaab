// A room whose store other writers share (room.h, "Several writers"): two
// Rooms over one SharedLog play two nodes.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "rooms/fake_store.h"
#include "rooms/room.h"
#include "rooms/room_helpers.h"
#include "rooms/shared_fake_store.h"
#include "support/wait.h"

namespace chaton {
namespace {

using rooms_test::SharedFakeStore;
using rooms_test::SharedLog;
using rooms_test::write_elsewhere;
using testing::CountingWaiter;
using testing::lobby_settings;
using testing::post_and_settle;
using testing::texts;

class SharedRoomTest : public ::testing::Test {
 protected:
  std::unique_ptr<Room> node(std::string name = "a") {
    auto room = std::make_unique<Room>(lobby_settings(true),
                                       std::make_unique<SharedFakeStore>(log, std::move(name)), clock);
    EXPECT_TRUE(room->open(nullptr));
    return room;
  }
  // A node that has read `n` posts written by another.
  std::unique_ptr<Room> node_after(size_t n) {
    auto room = node();
    write_elsewhere(*log, n);
    room->store_changed(n);
    room->settle();
    return room;
  }
  std::vector<uint64_t> window_seqs(Room& room) {
    std::vector<uint64_t> out;
    for (const Post& p : room.recent_posts(1000)) out.push_back(p.seq);
    return out;
  }

  std::shared_ptr<SharedLog> log = std::make_shared<SharedLog>();
  ManualClock clock{SysTime{std::chrono::seconds(1732450000)}};
};

TEST_F(SharedRoomTest, AnAnnouncedPostReachesTheOtherNodesWaitingReader) {
  auto a = node();
  auto b = node();
  auto reader = std::make_shared<CountingWaiter>();
  Cid cid = b->admit(std::nullopt).cid;
  ASSERT_TRUE(b->wait(cid, 0, reader));

  auto posted = post_and_settle(*a, "alice", "hello from a");
  ASSERT_TRUE(posted);
  EXPECT_EQ(reader->wakes.load(), 0);  // b has not heard yet
  b->store_changed(posted->seq);
  b->settle();
  EXPECT_EQ(reader->wakes.load(), 1);
  Delta d = b->delta_since(cid, 0, PacketFormat::json);
  EXPECT_EQ(d.pos, 1u);
  EXPECT_EQ(texts(d), std::vector<std::string>{"hello from a"});
  // A second announcement of the same post changes nothing.
  b->store_changed(posted->seq);
  b->settle();
  EXPECT_EQ(window_seqs(*b), std::vector<uint64_t>{1});
}

TEST_F(SharedRoomTest, OwnPostsAfterUnreadForeignOnesKeepTheWindowGapless) {
  auto b = node();
  std::vector<size_t> observed;
  b->on_publish([&](std::span<const Post> posts) { observed.push_back(posts.size()); });
  auto reader = std::make_shared<CountingWaiter>();
  Cid cid = b->admit(std::nullopt).cid;
  ASSERT_TRUE(b->wait(cid, 0, reader));

  write_elsewhere(*log, 3);  // not announced yet
  auto mine = post_and_settle(*b, "bob", "mine");
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->seq, 4u);
  EXPECT_EQ(window_seqs(*b), (std::vector<uint64_t>{1, 2, 3, 4}));
  Delta d = b->delta_since(cid, 0, PacketFormat::json);
  EXPECT_FALSE(d.refresh);
  EXPECT_EQ(texts(d), (std::vector<std::string>{"elsewhere 1", "elsewhere 2", "elsewhere 3", "mine"}));
  // Observers (webhooks) hear of this node's own post only.
  EXPECT_EQ(observed, std::vector<size_t>{1});
}

TEST_F(SharedRoomTest, ForeignPostsAreNotObservedHere) {
  auto b = node();
  int observed = 0;
  b->on_publish([&](std::span<const Post>) { ++observed; });
  b->store_changed(write_elsewhere(*log, 2));
  b->settle();
  EXPECT_EQ(window_seqs(*b), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(observed, 0);
}

TEST_F(SharedRoomTest, AReaderFromANodeFurtherAheadWaitsForTheCatchUp) {
  auto b = node();
  auto reader = std::make_shared<CountingWaiter>();
  Cid cid = b->admit(std::nullopt).cid;
  uint64_t newest = write_elsewhere(*log, 5);
  b->store_changed(newest);  // announced, but b's commit thread is not through yet
  // Whether or not the catch-up ran already, the reader at pos 5 is never
  // told to start over and never sent posts before its pos.
  Delta early = b->delta_since(cid, newest, PacketFormat::json);
  EXPECT_FALSE(early.refresh);
  EXPECT_EQ(early.pos, newest);
  EXPECT_FALSE(early.has_posts);
  b->settle();
  ASSERT_TRUE(b->wait(cid, newest, reader));
  write_elsewhere(*log, 1);
  b->store_changed(newest + 1);
  b->settle();
  EXPECT_EQ(reader->wakes.load(), 1);
  Delta d = b->delta_since(cid, newest, PacketFormat::json);
  EXPECT_FALSE(d.refresh);
  EXPECT_EQ(d.pos, newest + 1);
  EXPECT_EQ(texts(d), std::vector<std::string>{"elsewhere 6"});
}

TEST_F(SharedRoomTest, APosTheStoreDoesNotBearOutStartsOverOnceChecked) {
  auto b = node_after(2);
  Cid cid = b->admit(std::nullopt).cid;
  auto reader = std::make_shared<CountingWaiter>();
  // Beyond anything announced: maybe from a node further ahead, so it is
  // checked first, and the reader waits.
  Delta first = b->delta_since(cid, 9, PacketFormat::web);
  EXPECT_FALSE(first.refresh);
  EXPECT_EQ(first.pos, 9u);
  bool waiting = b->wait(cid, 9, reader);
  b->settle();  // the check: the store has 2 posts
  if (waiting) EXPECT_EQ(reader->wakes.load(), 1);
  Delta d = b->delta_since(cid, 9, PacketFormat::web);
  EXPECT_TRUE(d.refresh);
  EXPECT_EQ(d.pos, 2u);
  EXPECT_FALSE(b->wait(cid, 9, reader));
}

TEST_F(SharedRoomTest, APosRefutedBeforeTheReaderWaitsStillStartsOver) {
  auto b = node_after(2);
  Cid cid = b->admit(std::nullopt).cid;
  auto reader = std::make_shared<CountingWaiter>();
  EXPECT_FALSE(b->delta_since(cid, 9, PacketFormat::web).refresh);
  b->settle();  // the check ends before the reader comes to wait
  EXPECT_FALSE(b->wait(cid, 9, reader));
  Delta d = b->delta_since(cid, 9, PacketFormat::web);
  EXPECT_TRUE(d.refresh);
  EXPECT_EQ(d.pos, 2u);
}

TEST_F(SharedRoomTest, ARefutedPosDoesNotMakeTheNextReaderFromAFasterNodeStartOver) {
  auto b = node_after(2);
  // A client of an older history, far ahead: checked and told to start over.
  Cid stale = b->admit(std::nullopt).cid;
  auto stale_reader = std::make_shared<CountingWaiter>();
  EXPECT_FALSE(b->delta_since(stale, 500, PacketFormat::json).refresh);
  bool waiting = b->wait(stale, 500, stale_reader);  // unless the check ended already
  b->settle();
  if (waiting) EXPECT_EQ(stale_reader->wakes.load(), 1);
  EXPECT_TRUE(b->delta_since(stale, 500, PacketFormat::json).refresh);
  // Then post 3 is committed elsewhere, and a reader that has it comes
  // here before the announcement: it waits, it does not start over.
  uint64_t three = write_elsewhere(*log, 1);
  Cid mover = b->admit(std::nullopt).cid;
  Delta d = b->delta_since(mover, three, PacketFormat::json);
  EXPECT_FALSE(d.refresh);
  EXPECT_EQ(d.pos, three);
  EXPECT_FALSE(d.has_posts);
}

TEST_F(SharedRoomTest, AnOwnBatchNumberedBelowTheRoomAfterAModerationWaitsForTheReload) {
  auto b = node_after(3);
  moderate_elsewhere(*log, 2);  // a moderation removed post 2 elsewhere
  auto mine = post_and_settle(*b, "bob", "after the moderation");
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->seq, 3u);  // below the room's 3 before the reload
  b->settle();               // the reload the batch asked for
  EXPECT_EQ(window_seqs(*b), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(b->recent_posts(1).back().text, "after the moderation");
}

TEST_F(SharedRoomTest, APosFromAFasterNodeIsServedOnceTheStoreHasIt) {
  // The reader's pos comes before the announcement (defect seen with a
  // round-robin reader): it must wait, not start over.
  auto b = node_after(3);
  uint64_t newest = write_elsewhere(*log, 1);  // committed elsewhere, not announced yet
  Cid cid = b->admit(std::nullopt).cid;
  Delta early = b->delta_since(cid, newest, PacketFormat::json);
  EXPECT_FALSE(early.refresh);
  EXPECT_EQ(early.pos, newest);
  b->settle();  // the hint's check reads post 4
  auto reader = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(b->wait(cid, newest, reader));
  EXPECT_EQ(window_seqs(*b), (std::vector<uint64_t>{1, 2, 3, 4}));
  write_elsewhere(*log, 1);
  b->store_changed(newest + 1);
  b->settle();
  Delta d = b->delta_since(cid, newest, PacketFormat::json);
  EXPECT_FALSE(d.refresh);
  EXPECT_EQ(texts(d), std::vector<std::string>{"elsewhere 5"});
}

TEST_F(SharedRoomTest, ABatchWhoseGapCannotBeReadWaitsForTheCatchUp) {
  auto b = node();
  write_elsewhere(*log, 2);  // not announced, and the store will not answer
  log->fail_reads = true;
  auto mine = post_and_settle(*b, "bob", "mine");
  ASSERT_TRUE(mine);  // committed: acknowledged
  EXPECT_EQ(mine->seq, 3u);
  EXPECT_TRUE(window_seqs(*b).empty());  // not shown out of order
  log->fail_reads = false;
  b->sweep();  // behind what it expects: tries again
  b->settle();
  EXPECT_EQ(window_seqs(*b), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(SharedRoomTest, AChangeWithoutASequenceReloadsWhenTheStampMoved) {
  auto b = node_after(3);
  Cid cid = b->admit(std::nullopt).cid;
  auto reader = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(b->wait(cid, 3, reader));
  moderate_elsewhere(*log, 2);  // a moderation removed post 2
  b->store_changed(std::nullopt);
  b->settle();
  EXPECT_EQ(reader->wakes.load(), 1);
  EXPECT_EQ(window_seqs(*b), (std::vector<uint64_t>{1, 2}));
  Delta d = b->delta_since(cid, 3, PacketFormat::web);
  EXPECT_TRUE(d.refresh);
  EXPECT_EQ(d.pos, 2u);
}

// A moderation renumbers posts; `cid`'s client, known to both nodes, was
// at pos 3 of 3 before it. Post 2 goes; a reloads, and then 3 and 4 come
// in the new numbering.
class SharedModerationTest : public SharedRoomTest {
 protected:
  void SetUp() override {
    a = node_after(3);
    b = node("b");
    b->store_changed(3);
    b->settle();
    cid = a->admit(std::nullopt).cid;
    a->settle();  // announced
    ASSERT_TRUE(b->admit(cid, {}, true).unchecked);
    b->check_cid(cid, [] {});
    b->settle();
    ASSERT_EQ(b->admit(cid, {}, false).cid, cid);
    a->replied(cid);
    b->replied(cid);
    moderate_elsewhere(*log, 2);
    a->store_changed(std::nullopt);
    a->settle();
    a->store_changed(write_elsewhere(*log, 2));
    a->settle();
  }

  // On a, with its pos of before: started over from a's reload, under a
  // new cid (announced).
  Cid started_over_on_a() {
    EXPECT_EQ(a->admit(cid, {}, true).cid, cid);
    Delta d = a->delta_since(cid, 3, PacketFormat::json);
    EXPECT_TRUE(d.started_over);
    EXPECT_EQ(texts(d), (std::vector<std::string>{"elsewhere 3", "elsewhere 4"}));
    EXPECT_EQ(d.pos, 4u);
    size_t chatters = a->num_chatters();
    std::map<int64_t, std::string> told;  // what the store had when the reply could go
    bool announced = false;
    Cid fresh = a->renew_cid(cid, [&] {
      std::lock_guard lock(log->mu);
      told = log->cids;
      announced = true;
    });
    a->replied(fresh);
    a->settle();
    EXPECT_TRUE(announced);
    EXPECT_TRUE(told.count(fresh)) << "the other nodes are told before the reply";
    EXPECT_NE(fresh, cid);
    EXPECT_TRUE(a->cid_alive(fresh));
    EXPECT_EQ(a->num_chatters(), chatters) << "counted once, under its new cid";
    return fresh;
  }

  // On b, with the new cid and the pos a gave: nothing again, and it waits.
  void nothing_twice_on_b(Cid fresh) {
    auto again = b->admit(fresh, {}, false);
    EXPECT_EQ(again.cid, fresh);
    EXPECT_FALSE(again.reallocated);
    EXPECT_EQ(window_seqs(*b), (std::vector<uint64_t>{1, 2, 3, 4})) << "b reloaded first";
    Delta d = b->delta_since(fresh, 4, PacketFormat::json);
    EXPECT_FALSE(d.started_over);
    EXPECT_TRUE(texts(d).empty());
    EXPECT_EQ(d.pos, 4u);
    EXPECT_TRUE(b->wait(fresh, 4, std::make_shared<CountingWaiter>()));
  }

  // `node` hears that another node gave out `given` in `numbering`, and
  // the client comes with it at `pos`: admitted at once (the numbering
  // placed), the delta it is sent.
  Delta told_then_asked(Room& node, Cid given, const std::string& numbering, uint64_t pos) {
    node.cid_announced(given, numbering);
    auto adm = node.admit(given, {}, true);
    EXPECT_FALSE(adm.unchecked) << "numbering " << numbering << " placed at once";
    EXPECT_EQ(adm.cid, given);
    return node.delta_since(given, pos, PacketFormat::json);
  }

  std::unique_ptr<Room> a, b;
  Cid cid = kExpiredCid;
};

// The next node the client asks has not heard of the moderation yet: it
// checks the unknown cid, finds the store's stamp moved, and reloads
// before it admits it.
TEST_F(SharedModerationTest, AClientStartedOverOnOneNodeIsNotStartedOverAgainOnTheNext) {
  Cid fresh = started_over_on_a();
  ASSERT_TRUE(b->admit(fresh, {}, true).unchecked);
  b->check_cid(fresh, [] {});
  b->settle();
  nothing_twice_on_b(fresh);
}

// The reply with the new cid was lost: back on a with the old cid and the
// old pos, the client is started over again, not served in the wrong
// numbering.
TEST_F(SharedModerationTest, AClientBackWithItsOldCidIsStartedOverAgain) {
  Cid fresh = started_over_on_a();
  EXPECT_EQ(a->admit(cid, {}, true).cid, cid);
  Delta d = a->delta_since(cid, 3, PacketFormat::json);
  EXPECT_TRUE(d.started_over);
  EXPECT_EQ(texts(d), (std::vector<std::string>{"elsewhere 3", "elsewhere 4"}));
  Cid again = a->renew_cid(cid, [] {});
  EXPECT_NE(again, fresh);
  EXPECT_NE(again, cid);
}

// The same once the old cid was swept as idle: remembered with the epoch
// it had, it is still started over (and the sweep took nothing counted).
TEST_F(SharedModerationTest, AClientBackWithItsOldCidAfterTheSweepIsStartedOverAgain) {
  Cid fresh = started_over_on_a();
  size_t chatters = a->num_chatters();
  clock.advance(std::chrono::minutes(1));
  a->sweep();
  a->settle();
  EXPECT_FALSE(a->cid_alive(cid));
  EXPECT_FALSE(a->cid_alive(fresh));
  EXPECT_EQ(a->num_chatters(), chatters - 1) << "the renewed cid went; the retired one was not counted";
  auto back = a->admit(cid, {}, true);
  ASSERT_FALSE(back.unchecked);
  EXPECT_EQ(back.cid, cid);
  Delta d = a->delta_since(cid, 3, PacketFormat::json);
  EXPECT_TRUE(d.started_over);
  EXPECT_EQ(texts(d), (std::vector<std::string>{"elsewhere 3", "elsewhere 4"}));
}

// The next node has heard of the moderation and of the new cid, but its
// commit thread has not reloaded yet: the cid is checked (after the
// reload) rather than admitted in the old numbering.
TEST_F(SharedModerationTest, ANewCidHeardOfBeforeTheReloadWaitsForIt) {
  Cid fresh = started_over_on_a();
  std::mutex gate;
  std::unique_lock held(gate);
  std::atomic<bool> entered{false};
  b->check_writable([&](Status) {  // holds b's commit thread
    entered = true;
    std::lock_guard wait(gate);
  });
  ASSERT_TRUE(testing::wait_until([&] { return entered.load(); }));
  b->store_changed(std::nullopt);
  b->cid_announced(fresh);
  EXPECT_TRUE(b->admit(fresh, {}, true).unchecked);
  b->check_cid(fresh, [] {});
  held.unlock();
  b->settle();
  nothing_twice_on_b(fresh);
}

// A cid announced while the node waited for its reload is current after
// that reload, and from before the next one: a second moderation starts
// its client over when it comes.
TEST_F(SharedModerationTest, ANewCidHeardOfBeforeTheReloadIsBehindAfterTheNextOne) {
  Cid fresh = started_over_on_a();
  std::mutex gate;
  std::unique_lock held(gate);
  std::atomic<bool> entered{false};
  b->check_writable([&](Status) {
    entered = true;
    std::lock_guard wait(gate);
  });
  ASSERT_TRUE(testing::wait_until([&] { return entered.load(); }));
  b->store_changed(std::nullopt);
  b->cid_announced(fresh);
  held.unlock();
  b->settle();                  // reloaded
  moderate_elsewhere(*log, 1);  // a second moderation removed post 1
  b->store_changed(std::nullopt);
  b->settle();
  EXPECT_EQ(window_seqs(*b), (std::vector<uint64_t>{1, 2, 3}));
  ASSERT_EQ(b->admit(fresh, {}, true).cid, fresh);
  Delta d = b->delta_since(fresh, 4, PacketFormat::json);
  EXPECT_TRUE(d.started_over) << "its pos is from before the second moderation";
}

// Every cid is told with the numbering its client's positions are in: the
// change stamp its node had loaded when it gave it.
TEST_F(SharedModerationTest, ACidIsToldWithTheNumberingItWasGivenIn) {
  Cid fresh = started_over_on_a();
  Cid on_b = b->admit(std::nullopt).cid;  // b has not reloaded for the moderation
  b->settle();
  std::lock_guard lock(log->mu);
  EXPECT_EQ(log->cids.at(cid), "0");
  EXPECT_EQ(log->cids.at(fresh), "1");
  EXPECT_EQ(log->cids.at(on_b), "0");
}

// A node that had not reloaded for the moderation yet gives a new client
// its cid in the old numbering: the next node, which has reloaded, hears
// so and starts it over, rather than taking its pos as current.
TEST_F(SharedModerationTest, ACidGivenOutBeforeItsNodesReloadIsStartedOverOnTheNext) {
  Cid given = b->admit(std::nullopt).cid;
  b->settle();  // announced
  const uint64_t pos = b->status().sequence;
  EXPECT_EQ(pos, 3u) << "b's numbering is the old one";
  Delta d = told_then_asked(*a, given, "0", pos);  // as the notice says
  EXPECT_TRUE(d.started_over) << "its pos is from before the moderation";
}

// A client away for longer than the nodes remember its numbering comes
// back with a cid from before the moderation to a node that never heard of
// it: the store says which numbering the cid was given in, and the client
// is started over.
TEST_F(SharedModerationTest, ACidTheStoreKnowsFromBeforeTheModerationIsStartedOver) {
  auto c = node("c");  // opened after the moderation
  ASSERT_TRUE(c->admit(cid, {}, true).unchecked);
  c->check_cid(cid, [] {});
  c->settle();
  auto adm = c->admit(cid, {}, false);
  EXPECT_EQ(adm.cid, cid);
  EXPECT_FALSE(adm.reallocated);
  Delta d = c->delta_since(cid, 3, PacketFormat::json);
  EXPECT_TRUE(d.started_over) << "its pos is from before the moderation";
}

// A cid heard of in a numbering newer than the one loaded here is placed
// at the reload: current if the reload brings that numbering, behind if it
// brings a newer one still (two moderations meanwhile).
TEST_F(SharedModerationTest, ACidHeardOfInANewerNumberingIsPlacedAtTheReload) {
  Cid fresh = started_over_on_a();  // given in numbering "1"; b has "0"
  moderate_elsewhere(*log, 1);      // a second moderation removed post 1
  b->cid_announced(fresh, "1");
  ASSERT_TRUE(b->admit(fresh, {}, true).unchecked) << "placed only once b has compared the stamp";
  b->check_cid(fresh, [] {});
  b->settle();  // reloaded: "2"
  ASSERT_EQ(b->admit(fresh, {}, false).cid, fresh);
  Delta d = b->delta_since(fresh, 4, PacketFormat::json);
  EXPECT_TRUE(d.started_over) << "its pos is from before the second moderation";
}

// A second moderation reloads a between the reply it made to start a
// client over and the client's new cid: the reply's pos is in the
// numbering of before that reload, and so the new cid is told in it, not
// without one (which the other nodes would take as their own numbering).
TEST_F(SharedModerationTest, ACidRenewedAcrossAReloadIsToldInTheNumberingOfItsReply) {
  ASSERT_EQ(a->admit(cid, {}, true).cid, cid);
  Delta d = a->delta_since(cid, 3, PacketFormat::json);
  ASSERT_TRUE(d.started_over);
  EXPECT_EQ(d.pos, 4u) << "in numbering 1";
  moderate_elsewhere(*log, 1);  // a second moderation removed post 1
  a->store_changed(std::nullopt);
  a->settle();  // reloaded: "2"
  Cid fresh = a->renew_cid(cid, [] {});
  a->replied(fresh);
  a->settle();  // announced
  {
    std::lock_guard lock(log->mu);
    EXPECT_EQ(log->cids.at(fresh), "1");
  }
  ASSERT_EQ(a->admit(fresh, {}, true).cid, fresh);
  EXPECT_TRUE(a->delta_since(fresh, 4, PacketFormat::json).started_over) << "behind here too";
}

// A moderation lands while a node loads the store, after it read the
// change stamp and before its snapshot: the node has the newer window, and
// must know it is in the newer numbering, or a cid told in the older one
// would be taken as current there.
TEST_F(SharedModerationTest, AModerationDuringALoadIsInTheNumberingLoaded) {
  Cid given = a->admit(std::nullopt).cid;
  a->settle();  // told in numbering "1"
  const uint64_t pos = a->status().sequence;
  log->before_open = [](SharedLog& l) { remove_post_locked(l, 1); };  // a second moderation
  auto c = node("c");
  EXPECT_EQ(window_seqs(*c), (std::vector<uint64_t>{1, 2, 3})) << "the newer window";
  Delta d = told_then_asked(*c, given, "1", pos);
  EXPECT_TRUE(d.started_over) << "its pos is from before the second moderation";
}

// A moderation lands just after a node's snapshot, before it reads the
// stamp again: the node loads again rather than take the newer stamp for
// the older posts (then a cid told in the newer numbering would be served
// its pos against the older window).
TEST_F(SharedModerationTest, AModerationRightAfterALoadIsLoadedToo) {
  log->after_open = [](SharedLog& l) { remove_post_locked(l, 1); };  // a second moderation
  auto c = node("c");
  EXPECT_EQ(window_seqs(*c), (std::vector<uint64_t>{1, 2, 3})) << "loaded again";
  // Numbering 2 is the one loaded, not one to come; 3 is its newest post.
  Delta d = told_then_asked(*c, 4242, "2", 3);
  EXPECT_FALSE(d.started_over);
  EXPECT_TRUE(texts(d).empty()) << "nothing after 3 in numbering 2";
}

// The stamp moved during a node's load and cannot be read after it: the
// node keeps the stamp it read before (an older numbering, whose clients
// the others start over) rather than none (which they take as their own).
TEST_F(SharedModerationTest, AStampThatCannotBeReadAfterALoadIsNotTakenForOne) {
  log->before_open = [](SharedLog& l) {
    remove_post_locked(l, 1);  // a second moderation
    l.stamp_failures = 2;
  };
  auto c = node("c");
  Cid given = c->admit(std::nullopt).cid;
  c->settle();  // announced
  std::lock_guard lock(log->mu);
  EXPECT_EQ(log->cids.at(given), "1");
}

// The stamp moved right after a node's load and the store fails the
// second load: the node opens with the first, in the numbering read before
// it, rather than fail to open, and finds the stamp moved at its next
// comparison.
TEST_F(SharedModerationTest, ASecondLoadThatFailsKeepsTheFirst) {
  log->after_open = [](SharedLog& l) {
    remove_post_locked(l, 1);  // a second moderation
    l.fail_opens = true;
  };
  auto c = node("c");
  EXPECT_EQ(window_seqs(*c), (std::vector<uint64_t>{1, 2, 3, 4})) << "the first load";
  log->fail_opens = false;
  constexpr Cid kOld = 4242;
  EXPECT_FALSE(told_then_asked(*c, kOld, "1", 4).started_over) << "numbering 1, as loaded";
  c->store_changed(std::nullopt);
  c->settle();  // compares: "1" loaded, "2" in the store: reloads
  EXPECT_EQ(window_seqs(*c), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(c->delta_since(kOld, 4, PacketFormat::json).started_over) << "numbering 2 is loaded now";
}

// No stamp could be read before a node's load, and the stamp read after it
// shows a moderation, but loading again fails: the node cannot tell which
// numbering its posts are in, so it does not open (it is not left to
// announce cids in none).
TEST_F(SharedModerationTest, ALoadWhoseNumberingCannotBeToldFails) {
  log->stamp_failures = 1;
  log->after_open = [](SharedLog& l) {
    remove_post_locked(l, 1);  // a second moderation
    l.fail_opens = true;
  };
  auto c = std::make_unique<Room>(lobby_settings(true), std::make_unique<SharedFakeStore>(log, "c"), clock);
  EXPECT_FALSE(c->open(nullptr));
  log->fail_opens = false;
}

// Alone, a node keeps the cid of a client it starts over.
TEST(RenewCid, WithAStoreOfItsOwnTheCidStays) {
  ManualClock clock{SysTime{std::chrono::seconds(1732450000)}};
  Room room(lobby_settings(true), std::make_unique<rooms_test::FakeStore>(), clock);
  ASSERT_TRUE(room.open(nullptr));
  Cid cid = room.admit(std::nullopt).cid;
  bool announced = false;
  EXPECT_EQ(room.renew_cid(cid, [&] { announced = true; }), cid);
  EXPECT_TRUE(announced) << "nothing to tell: at once";
  EXPECT_TRUE(room.cid_alive(cid));
}

TEST_F(SharedRoomTest, ACidFromAnotherNodeIsCheckedBeforeItIsRefused) {
  RoomSettings strict = lobby_settings(false);
  auto a = std::make_unique<Room>(strict, std::make_unique<SharedFakeStore>(log, "a"), clock);
  auto b = std::make_unique<Room>(strict, std::make_unique<SharedFakeStore>(log, "b"), clock);
  ASSERT_TRUE(a->open(nullptr));
  ASSERT_TRUE(b->open(nullptr));
  std::optional<Cid> given;
  a->allocate_cid_then("192.0.2.1", [&](Cid cid) { given = cid; });
  a->settle();
  ASSERT_TRUE(given);  // answered once announced
  // b has not heard the announcement: it asks before refusing.
  auto first = b->admit(*given, "192.0.2.1", /*may_check=*/true);
  EXPECT_TRUE(first.unchecked);
  bool checked = false;
  b->check_cid(*given, [&] { checked = true; });
  b->settle();
  EXPECT_TRUE(checked);
  auto again = b->admit(*given, "192.0.2.1", false);
  EXPECT_EQ(again.cid, *given);
  EXPECT_FALSE(again.reallocated);
  // A cid no node gave out is refused after the check.
  EXPECT_TRUE(b->admit(Cid{12345}, "192.0.2.1", true).unchecked);
  b->check_cid(12345, [] {});
  b->settle();
  EXPECT_EQ(b->admit(Cid{12345}, "192.0.2.1", false).cid, kExpiredCid);
}

TEST_F(SharedRoomTest, ClientsArrivingTogetherAreAnnouncedInOneGo) {
  auto a = node("a");
  // Hold the commit thread so the arrivals queue up behind one task.
  std::mutex gate;
  std::unique_lock held(gate);
  a->check_cid(1, [&] { std::lock_guard wait(gate); });
  std::vector<Cid> given;
  for (int i = 0; i < 50; ++i) given.push_back(a->admit(std::nullopt).cid);
  held.unlock();
  a->settle();
  std::lock_guard lock(log->mu);
  EXPECT_EQ(log->cids.size(), 50u);
  EXPECT_EQ(log->announcements, 1);
}

TEST_F(SharedRoomTest, TheChattersCountAddsTheOtherNodes) {
  auto a = node("a");
  auto b = node("b");
  a->admit(std::nullopt);
  a->admit(std::nullopt);
  b->admit(std::nullopt);
  for (Room* r : {a.get(), b.get(), a.get()}) {
    r->sweep();
    r->settle();
  }
  EXPECT_EQ(a->num_chatters(), 3u);
  EXPECT_EQ(b->num_chatters(), 3u);
  EXPECT_EQ(a->status().num_chatters, 3u);
  // Each node recorded its own count only.
  std::lock_guard lock(log->mu);
  EXPECT_EQ(log->chatters["a"], 2u);
  EXPECT_EQ(log->chatters["b"], 1u);
}

}  // namespace
}  // namespace chaton
