// Tests for a Room reloading after its posts were removed behind its back
// (a moderation by another process): sweep() notices the store's change
// stamp, the window, sequence and RSS are replaced, every waiting reader
// is woken, and every cid from before the reload — waiting or not, at any
// pos — starts over: in the web format one packet with refresh set and the
// whole window, in JSON and S-expressions the posts after the reload. With a real
// FileStore (the removal done by a second store object, as `chaton
// moderate` would) and with the FakeStore (a failed reload is retried).
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "render/html.h"
#include "rooms/fake_store.h"
#include "rooms/room.h"
#include "rooms/room_helpers.h"
#include "store/file_store.h"
#include "store/post_selector.h"
#include "support/temp_dir.h"

namespace chaton {
namespace {

using testing::CountingWaiter;
using testing::texts;

namespace json = boost::json;
using rooms_test::FakeStore;
using rooms_test::make_snapshot;
using std::chrono::seconds;

constexpr int64_t kStart = 1732460000;
constexpr const char* kRoomUrl = "http://chat.example/lobby/";
constexpr size_t kPosts = 5;

using testing::TempDir;  // tests/support/temp_dir.h

RoomSettings settings(const std::filesystem::path& dir) {
  RoomSettings s;
  s.config.slug = "lobby";
  s.config.name = "Lobby";
  s.config.data_dir = dir.string();
  s.url = kRoomUrl;
  s.render.room_url = kRoomUrl;
  s.version = "test";
  return s;
}

class ModerationRoomTest : public ::testing::Test {
 protected:
  void open() {
    room = std::make_unique<Room>(settings(dir.path()), std::make_unique<FileStore>(dir.path()), clock);
    ASSERT_TRUE(room->open(nullptr).is_ok());
  }

  Post post(const std::string& text) {
    clock.advance(seconds(1));
    Result<Post> r = testing::post_and_settle(*room, "alice", text);
    EXPECT_TRUE(r.is_ok());
    return r.is_ok() ? r.value() : Post{};
  }

  // What `chaton moderate --entry` does, from another store object.
  void remove_externally(const Post& p) {
    PostSelector s;
    s.entry = EntryTime{p.sec, p.usec};
    FileStore other(dir.path());
    auto r = other.remove_posts(s);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_TRUE(r->removed_any());
  }

  TempDir dir;
  ManualClock clock{from_seconds(kStart)};
  std::unique_ptr<Room> room;
};

TEST(EntryIdTest, ParsesWhatPermalinksShow) {
  for (auto [sec, usec] : {std::pair<int64_t, int64_t>{1732450000, 123456}, {1, 0}, {0x7fffffff, 999999}})
    EXPECT_EQ(parse_entry_id(entry_id(sec, usec)), (EntryTime{sec, usec})) << entry_id(sec, usec);
}

TEST_F(ModerationRoomTest, ReloadsAfterAnExternalRemovalAndEveryReaderRefreshes) {
  open();
  std::vector<Post> posts;
  for (size_t i = 0; i < kPosts; ++i) posts.push_back(post("post " + std::to_string(i + 1)));
  ASSERT_EQ(room->status().sequence, kPosts);
  ASSERT_NE(room->rss()->find("post 3"), std::string::npos);

  // A long-poll reader waiting at the end, one between requests at the end,
  // and one between requests further back.
  Cid waiting = room->admit(std::nullopt).cid;
  EXPECT_EQ(texts(room->delta_since(waiting, 0, PacketFormat::json)).size(), kPosts);
  auto waiter = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(waiting, kPosts, waiter));
  Cid idle = room->admit(std::nullopt).cid;
  room->replied(idle);
  Cid behind = room->admit(std::nullopt).cid;
  room->replied(behind);
  Cid late = room->admit(std::nullopt).cid;  // asks again only after a later post
  room->replied(late);

  room->sweep();  // nothing changed yet: no reload, nobody woken
  EXPECT_EQ(waiter->wakes, 0);

  remove_externally(posts[2]);
  room->sweep();

  EXPECT_EQ(waiter->wakes, 1);
  EXPECT_EQ(room->status().sequence, kPosts - 1);
  EXPECT_EQ(room->rss()->find("post 3"), std::string::npos);
  EXPECT_NE(room->rss()->find("post 4"), std::string::npos);

  const std::vector<std::string> rest{"post 1", "post 2", "post 4", "post 5"};
  // A JSON reader cannot clear its view: it goes on from the new sequence,
  // not sent the live log again.
  Delta d = room->delta_since(waiting, kPosts, PacketFormat::json);
  EXPECT_FALSE(d.refresh);
  EXPECT_FALSE(d.has_posts);
  EXPECT_EQ(d.pos, kPosts - 1);
  // Told once: from the new position on it is an ordinary reader again.
  Delta again = room->delta_since(waiting, d.pos, PacketFormat::json);
  EXPECT_FALSE(again.refresh);
  EXPECT_FALSE(again.has_posts);
  EXPECT_TRUE(room->wait(waiting, d.pos, waiter));

  // A pos that still exists after the reload is stale too; a browser's view
  // is cleared and drawn again.
  EXPECT_FALSE(room->wait(idle, kPosts - 1, waiter));
  Delta idle_delta = room->delta_since(idle, kPosts - 1, PacketFormat::web);
  EXPECT_TRUE(idle_delta.refresh);
  EXPECT_TRUE(idle_delta.has_posts);
  EXPECT_EQ(idle_delta.pos, kPosts - 1);
  // A JSON reader further back also goes on from the reload, whatever its pos.
  Delta behind_delta = room->delta_since(behind, 2, PacketFormat::json);
  EXPECT_FALSE(behind_delta.refresh);
  EXPECT_FALSE(behind_delta.has_posts);
  EXPECT_EQ(behind_delta.pos, kPosts - 1);
  EXPECT_EQ(texts(room->delta_since(behind, 0, PacketFormat::json)), rest);  // caught up: plain backlog

  // A new client is in the new epoch from the start.
  Cid fresh = room->admit(std::nullopt).cid;
  EXPECT_FALSE(room->delta_since(fresh, kPosts - 1, PacketFormat::json).refresh);

  // Posting goes on from the new sequence, and the woken reader gets it.
  Post next = post("post 6");
  EXPECT_EQ(next.seq, kPosts);
  EXPECT_EQ(waiter->wakes, 2);
  Delta after = room->delta_since(waiting, kPosts - 1, PacketFormat::json);
  EXPECT_FALSE(after.refresh);
  EXPECT_EQ(texts(after), std::vector<std::string>{"post 6"});
  // A JSON reader from before the reload that asks only now gets what came
  // after the reload, nothing older and nothing missed.
  Delta late_delta = room->delta_since(late, 1, PacketFormat::json);
  EXPECT_FALSE(late_delta.refresh);
  EXPECT_EQ(texts(late_delta), std::vector<std::string>{"post 6"});
  EXPECT_EQ(late_delta.pos, kPosts);

  // The numbering the room published is the one the files give.
  room->close();
  FileStore check(dir.path());
  auto snap = check.open();
  ASSERT_TRUE(snap.is_ok());
  ASSERT_EQ(snap->recent.size(), kPosts);
  EXPECT_EQ(snap->recent.back().text, "post 6");
  EXPECT_EQ(snap->recent.back().seq, kPosts);
}

TEST_F(ModerationRoomTest, StreamsHoldingACidRefreshToo) {
  open();
  std::vector<Post> posts;
  for (size_t i = 0; i < kPosts; ++i) posts.push_back(post("post " + std::to_string(i + 1)));
  Cid stream = room->allocate_cid();  // as RoomFeed holds one
  room->hold(stream);
  auto waiter = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(stream, kPosts, waiter));

  remove_externally(posts[0]);
  room->sweep();

  EXPECT_EQ(waiter->wakes, 1);
  Delta d = room->delta_since(stream, kPosts, PacketFormat::web);
  EXPECT_TRUE(d.refresh);
  EXPECT_EQ(d.pos, kPosts - 1);
  EXPECT_EQ(room->delta_since(stream, d.pos, PacketFormat::web).refresh, false);
}

TEST(ModerationFakeStoreTest, AFailedReloadKeepsTheRoomAndIsRetried) {
  TempDir dir;
  ManualClock clock{from_seconds(kStart)};
  auto fake = std::make_unique<FakeStore>(make_snapshot(10, 10));
  FakeStore* store = fake.get();
  Room room(settings(dir.path()), std::move(fake), clock);
  ASSERT_TRUE(room.open(nullptr).is_ok());
  Cid cid = room.admit(std::nullopt).cid;
  auto waiter = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room.wait(cid, 10, waiter));

  store->rewrite(make_snapshot(7, 7));
  store->fail_next_open();
  ::testing::internal::CaptureStderr();
  room.sweep();
  std::string said = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(said.find("cannot reload"), std::string::npos) << said;
  EXPECT_EQ(room.status().sequence, 10u);  // kept what it had
  EXPECT_EQ(waiter->wakes, 0);

  room.sweep();  // retried
  EXPECT_EQ(store->opens(), 3);
  EXPECT_EQ(room.status().sequence, 7u);
  EXPECT_EQ(waiter->wakes, 1);
  Delta d = room.delta_since(cid, 7, PacketFormat::web);
  EXPECT_TRUE(d.refresh);
  EXPECT_TRUE(d.has_posts);
  EXPECT_EQ(d.pos, 7u);

  room.sweep();  // nothing new: no reload
  EXPECT_EQ(store->opens(), 3);
}

}  // namespace
}  // namespace chaton
