// Tests for a room's metrics (rooms/room_metrics.h): what posting,
// refusing and committing count, in the registry the room was given, and
// the room's answer to "can the store take posts" (Room::check_writable).
#include "rooms/room_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "rooms/fake_store.h"
#include "rooms/room.h"
#include "rooms/room_helpers.h"
#include "support/temp_dir.h"
#include "util/clock.h"

namespace chaton {
namespace {

using rooms_test::FakeStore;
using rooms_test::kHandoverTimeout;
using testing::post_and_settle;

class RoomMetricsTest : public ::testing::Test {
 protected:
  void make(std::shared_ptr<RateLimiter> limiter = nullptr) {
    RoomSettings s = testing::lobby_settings(true);
    s.config.data_dir = dir.path().string();
    s.limits.text_limit = 10;
    s.rate_limiter = std::move(limiter);
    s.metrics = registry;
    auto fake = std::make_unique<FakeStore>();
    store = fake.get();
    room = std::make_unique<Room>(std::move(s), std::move(fake), clock);
    ASSERT_TRUE(room->open(nullptr));
  }
  uint64_t rejected(Rejection r) const { return room->metrics().rejected[static_cast<size_t>(r)]->value(); }

  testing::TempDir dir;
  ManualClock clock{SysTime(std::chrono::seconds(1732460000))};
  std::shared_ptr<metrics::Registry> registry = std::make_shared<metrics::Registry>();
  FakeStore* store = nullptr;
  std::unique_ptr<Room> room;
};

TEST_F(RoomMetricsTest, CountsStoredPostsAndTheTimeEachTookToBeAcknowledged) {
  make();
  ASSERT_TRUE(post_and_settle(*room, "alice", "one"));
  ASSERT_TRUE(post_and_settle(*room, "bob", "two"));
  EXPECT_EQ(room->metrics().posts->value(), 2u);
  EXPECT_EQ(room->metrics().commit_seconds->count(), 2u);
  std::string text = registry->render();
  EXPECT_NE(text.find("chaton_posts_total{room=\"lobby\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chaton_post_commit_seconds_count{room=\"lobby\"} 2\n"), std::string::npos) << text;
}

TEST_F(RoomMetricsTest, CountsEachRefusalUnderItsReason) {
  make(std::make_shared<RateLimiter>(0.001, 1.0, AddressRanges(), clock));
  EXPECT_FALSE(post_and_settle(*room, "", "no nick"));
  EXPECT_FALSE(post_and_settle(*room, "alice", "far too long for ten"));
  ASSERT_TRUE(post_and_settle(*room, "alice", "first"));  // the one token
  EXPECT_FALSE(post_and_settle(*room, "alice", "too soon"));
  clock.advance(std::chrono::hours(1));
  store->fail_next_append();
  EXPECT_FALSE(post_and_settle(*room, "alice", "lost"));
  room->close();
  clock.advance(std::chrono::hours(1));  // a token again: the post reaches the stopped queue
  EXPECT_FALSE(post_and_settle(*room, "alice", "closed"));

  EXPECT_EQ(rejected(Rejection::invalid), 1u);
  EXPECT_EQ(rejected(Rejection::too_large), 1u);
  EXPECT_EQ(rejected(Rejection::rate_limited), 1u);
  EXPECT_EQ(rejected(Rejection::store_failure), 1u);
  EXPECT_EQ(rejected(Rejection::closed), 1u);
  EXPECT_EQ(rejected(Rejection::blacklisted), 0u);
  EXPECT_EQ(room->metrics().posts->value(), 1u);
  EXPECT_NE(
      registry->render().find("chaton_post_rejections_total{room=\"lobby\",reason=\"rate_limited\"} 1\n"),
      std::string::npos);
}

TEST_F(RoomMetricsTest, ADeltaSaysHowManyPostsItCarries) {
  make();
  for (const char* t : {"a", "b", "c"}) ASSERT_TRUE(post_and_settle(*room, "alice", t));
  EXPECT_EQ(room->delta_since(1, PacketFormat::json).posts, 2u);
  EXPECT_EQ(room->delta_since(3, PacketFormat::json).posts, 0u);
}

Status writable_of(Room& room) {
  auto answer = std::make_shared<std::promise<Status>>();
  auto got = answer->get_future();
  room.check_writable([answer](Status st) { answer->set_value(std::move(st)); });
  if (got.wait_for(kHandoverTimeout) != std::future_status::ready) return Status(Errc::io, "test: no answer");
  return got.get();
}

TEST_F(RoomMetricsTest, TellsWhetherItsStoreCanTakePosts) {
  make();
  EXPECT_TRUE(writable_of(*room));
  store->set_writable(Status(Errc::io, "the disk is full"));
  Status st = writable_of(*room);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.message(), "the disk is full");
  room->close();
  EXPECT_FALSE(writable_of(*room));  // answered, not dropped, once the commit thread is gone
}

}  // namespace
}  // namespace chaton
