// Tests for delta_for() (live/delta_cache.h): what it gives a reader is
// what Room::delta_since() gives, whether the thread's table answers or the
// room does: the same content for readers at the same pos, the new posts
// once the room moved on, and a start over after a reload.
#include "live/delta_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rooms/fake_store.h"
#include "rooms/room_helpers.h"

namespace chaton::live {
namespace {

using rooms_test::FakeStore;
using rooms_test::make_snapshot;
using testing::post_and_settle;
using testing::texts;

constexpr int64_t kStart = 1732460000;

class DeltaCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<FakeStore>(make_snapshot(3, 3));
    store = fake.get();
    room = std::make_unique<Room>(testing::lobby_settings(false), std::move(fake), clock);
    ASSERT_TRUE(room->open(nullptr));
  }
  void TearDown() override { room->close(); }

  ManualClock clock{from_seconds(kStart)};
  FakeStore* store = nullptr;  // owned by the room
  std::unique_ptr<Room> room;
};

TEST_F(DeltaCacheTest, ReadersAtOnePosGetWhatTheRoomGivesThem) {
  Cid a = room->allocate_cid(), b = room->allocate_cid();
  uint64_t ea = 0, eb = 0;
  Delta da = delta_for(*room, a, 1, PacketFormat::json, ea);
  Delta db = delta_for(*room, b, 1, PacketFormat::json, eb);
  Delta direct = room->delta_since(b, 1, PacketFormat::json);
  for (const Delta* d : {&da, &db}) {
    EXPECT_EQ(d->pos, direct.pos);
    EXPECT_EQ(d->posts, direct.posts);
    EXPECT_EQ(d->has_posts, direct.has_posts);
    EXPECT_EQ(d->more, direct.more);
    EXPECT_FALSE(d->refresh);
    EXPECT_EQ(*d->content, *direct.content);
  }
  EXPECT_EQ(da.content, db.content);  // one shared fragment
  EXPECT_EQ(texts(db).size(), 2u);
  // Another format is another delta.
  Delta web = delta_for(*room, b, 1, PacketFormat::web, eb);
  EXPECT_NE(*web.content, *db.content);
}

TEST_F(DeltaCacheTest, AReaderAtTheOldPosGetsThePostsThatCameSince) {
  Cid a = room->allocate_cid(), b = room->allocate_cid();
  uint64_t ea = 0, eb = 0;
  ASSERT_EQ(texts(delta_for(*room, a, 2, PacketFormat::json, ea)).size(), 1u);
  ASSERT_TRUE(post_and_settle(*room, "alice", "fresh"));
  Delta d = delta_for(*room, b, 2, PacketFormat::json, eb);
  EXPECT_EQ(d.pos, 4u);
  EXPECT_EQ(texts(d).back(), "fresh");
  EXPECT_EQ(texts(d).size(), 2u);
}

TEST_F(DeltaCacheTest, AReaderFromBeforeAReloadStartsOverAndOthersDoNot) {
  Cid old_reader = room->allocate_cid();
  uint64_t old_epoch = 0;
  ASSERT_FALSE(delta_for(*room, old_reader, 1, PacketFormat::web, old_epoch).refresh);
  ASSERT_TRUE(room->reload());
  ASSERT_NE(room->epoch(), old_epoch);
  // A reader of this epoch puts the delta for pos 1 in the table...
  Cid fresh = room->allocate_cid();
  uint64_t fresh_epoch = 0;
  Delta first = delta_for(*room, fresh, 1, PacketFormat::web, fresh_epoch);
  EXPECT_FALSE(first.refresh);
  EXPECT_EQ(fresh_epoch, room->epoch());
  EXPECT_EQ(delta_for(*room, fresh, 1, PacketFormat::web, fresh_epoch).content, first.content);
  // ... which the reader from before the reload, at the same pos, is not given.
  Delta again = delta_for(*room, old_reader, 1, PacketFormat::web, old_epoch);
  EXPECT_TRUE(again.refresh);
  EXPECT_EQ(old_epoch, room->epoch());
}

// A JSON reader from before a moderation goes on from the reload's
// sequence: its delta is its own, never what a current reader at the same
// pos is given.
TEST_F(DeltaCacheTest, AJsonReaderStartedOverAfterAReloadDoesNotStandForOthers) {
  Cid old_reader = room->allocate_cid();
  uint64_t old_epoch = 0;
  ASSERT_EQ(texts(delta_for(*room, old_reader, 2, PacketFormat::json, old_epoch)).size(), 1u);  // at pos 3
  store->rewrite(make_snapshot(2, 2));  // a post removed behind the room's back
  ASSERT_TRUE(room->reload());
  Cid current = room->allocate_cid();
  uint64_t current_epoch = 0;
  delta_for(*room, current, 0, PacketFormat::json, current_epoch);
  ASSERT_EQ(current_epoch, room->epoch());
  ASSERT_TRUE(post_and_settle(*room, "alice", "p3"));
  ASSERT_TRUE(post_and_settle(*room, "alice", "p4"));
  // The old reader, at its old pos 3, goes on from the reload (sequence 2).
  Delta restarted = delta_for(*room, old_reader, 3, PacketFormat::json, old_epoch);
  EXPECT_TRUE(restarted.started_over);
  EXPECT_EQ(texts(restarted), (std::vector<std::string>{"p3", "p4"}));
  // The current reader at pos 3 gets what came after it, once.
  Delta d = delta_for(*room, current, 3, PacketFormat::json, current_epoch);
  EXPECT_EQ(texts(d), std::vector<std::string>{"p4"});
}

TEST_F(DeltaCacheTest, EachThreadKeepsItsOwnTableAndGetsTheSameDelta) {
  Cid a = room->allocate_cid();
  uint64_t e = 0;
  Delta here = delta_for(*room, a, 0, PacketFormat::json, e);
  std::string there;
  std::thread other([&] {
    uint64_t e2 = 0;
    there = *delta_for(*room, a, 0, PacketFormat::json, e2).content;
  });
  other.join();
  EXPECT_EQ(there, *here.content);
}

}  // namespace
}  // namespace chaton::live
