// Tests for Room::archive with a real FileStore in a temporary directory and
// a ManualClock: posts made over several days (the clock moved between
// them) are archived on the commit thread; the in-memory window is trimmed
// to what current.dat kept; readers at an older pos still get a delta and
// pos never goes back; long-polling readers cross midnight, month ends and
// year ends; and posting from four threads while archiving again and again
// loses and doubles nothing.
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "messages/line_codec.h"
#include "rooms/room.h"
#include "rooms/room_helpers.h"
#include "store/file_store.h"
#include "support/files.h"
#include "support/temp_dir.h"

namespace chaton {
namespace {

using testing::CountingWaiter;
using testing::texts;

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr Date kNov20{2024, 11, 20};
constexpr Date kNov21{2024, 11, 21};
constexpr Date kNov22{2024, 11, 22};

using testing::read_text;
using testing::TempDir;  // tests/support/temp_dir.h

SysTime at(Date d, int hour, int minute = 0, int second = 0) {
  return from_seconds(seconds_from_date(d) + hour * 3600 + minute * 60 + second);
}

Date today_of(const Clock& c) { return utc_from_seconds(to_stamp(c.now()).sec).date; }

class ArchiveRoomTest : public ::testing::Test {
 protected:
  void open(SysTime start) {
    clock.set(start);
    RoomSettings s;
    s.config.slug = "lobby";
    s.config.name = "Lobby";
    s.config.data_dir = dir.path().string();
    s.url = "http://chat.example/lobby/";
    s.render.room_url = s.url;
    s.version = "test";
    room = std::make_unique<Room>(std::move(s), std::make_unique<FileStore>(dir.path()), clock);
    ASSERT_TRUE(room->open(nullptr).is_ok());
  }

  // Posts and waits until the post is durable.
  Result<Post> post(const std::string& text, const std::string& nick = "alice") {
    return testing::post_and_settle(*room, nick, text);
  }

  // `n` posts, the clock moved `step` before each.
  void post_many(int n, const std::string& tag, microseconds step) {
    for (int i = 0; i < n; ++i) {
      clock.advance(step);
      auto r = post(tag + " " + std::to_string(i));
      ASSERT_TRUE(r.is_ok()) << r.status().message();
    }
  }

  fs::path day_file(Date d) const { return dir.path() / "data" / (format_date_path(d) + ".dat"); }

  TempDir dir;
  ManualClock clock;
  std::unique_ptr<Room> room;
};

TEST_F(ArchiveRoomTest, ArchivesSeveralDaysTrimsTheWindowAndKeepsPositions) {
  open(at(kNov20, 8));
  post_many(40, "twenty", minutes(10));  // 08:10 .. 14:40 on the 20th
  clock.set(at(kNov21, 8));
  post_many(40, "twenty-one", minutes(10));
  clock.set(at(kNov22, 0, 30));
  post_many(10, "today", minutes(1));
  ASSERT_EQ(room->status().sequence, 90u);
  uint64_t old_reader = 45;  // a client that last saw post 45

  auto r = room->archive(today_of(clock));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->written.size(), 2u);
  EXPECT_EQ(r->written[0].posts, 40u);
  EXPECT_EQ(r->kept_in_current, 31u);  // the last 21 of the 21st and today's 10

  EXPECT_EQ(room->recent_posts(1000).size(), 31u);
  EXPECT_EQ(room->status().sequence, 90u);
  Delta fresh = room->delta_since(0, PacketFormat::json);
  EXPECT_EQ(fresh.pos, 90u);
  EXPECT_EQ(texts(fresh).size(), 31u);
  Delta older = room->delta_since(old_reader, PacketFormat::json);
  EXPECT_EQ(older.pos, 90u);            // never back
  ASSERT_EQ(texts(older).size(), 31u);  // what is still live
  EXPECT_EQ(texts(older).front(), "twenty-one 19");
  Delta recent = room->delta_since(85, PacketFormat::json);
  EXPECT_EQ(texts(recent), (std::vector<std::string>{"today 5", "today 6", "today 7", "today 8", "today 9"}));

  clock.advance(minutes(1));
  auto next = post("after archiving");
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(next->seq, 91u);
  EXPECT_EQ(texts(room->delta_since(90, PacketFormat::json)), std::vector<std::string>{"after archiving"});

  // The archive pages read the days back.
  auto day20 = room->day(kNov20);
  ASSERT_TRUE(day20.is_ok());
  EXPECT_EQ(day20->size(), 40u);
  auto month = room->days_in_month(2024, 11);
  ASSERT_EQ(month.size(), 3u);
  EXPECT_EQ(month[2].posts, 11u);

  // A restart sees the same positions.
  room->close();
  room.reset();
  open(clock.now());
  EXPECT_EQ(room->status().sequence, 91u);
  EXPECT_EQ(room->recent_posts(1000).size(), 32u);
  EXPECT_FALSE(room->delta_since(91, PacketFormat::json).has_posts);
}

TEST_F(ArchiveRoomTest, LongPollingReadersCrossMidnightMonthAndYearEnds) {
  open(at(Date{2024, 12, 31}, 23, 50));
  post_many(35, "old year", seconds(10));  // up to 23:55:50
  Cid cid = room->allocate_cid();
  uint64_t pos = room->status().sequence;
  auto waiter = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(cid, pos, waiter));

  // Midnight passes with the reader waiting; the server archives.
  clock.set(at(Date{2025, 1, 1}, 0, 0, 1));
  auto r = room->archive(today_of(clock));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->written.size(), 1u);
  EXPECT_EQ(waiter->wakes, 0);  // nothing new for it
  EXPECT_TRUE(fs::is_symlink(day_file(Date{2025, 1, 1})));
  EXPECT_TRUE(fs::is_symlink(day_file(Date{2025, 1, 2})));
  EXPECT_FALSE(fs::is_symlink(day_file(Date{2024, 12, 31})));

  auto first = post("happy new year");
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(waiter->wakes, 1);
  Delta d = room->delta_since(pos, PacketFormat::json);
  EXPECT_EQ(d.pos, pos + 1);
  EXPECT_EQ(texts(d), std::vector<std::string>{"happy new year"});
  EXPECT_EQ(room->months(), (std::vector<std::pair<int, int>>{{2024, 12}, {2025, 1}}));

  // Month end: January 31st to February 1st, another reader waiting.
  clock.set(at(Date{2025, 1, 31}, 23, 59, 59));
  ASSERT_TRUE(post("end of january").is_ok());
  pos = room->status().sequence;
  auto second = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(cid, pos, second));
  clock.set(at(Date{2025, 2, 1}, 0, 0, 1));
  ASSERT_TRUE(room->archive(today_of(clock)).is_ok());
  ASSERT_TRUE(post("february").is_ok());
  EXPECT_EQ(second->wakes, 1);
  EXPECT_EQ(texts(room->delta_since(pos, PacketFormat::json)), std::vector<std::string>{"february"});
  auto jan31 = room->day(Date{2025, 1, 31});
  ASSERT_TRUE(jan31.is_ok());
  ASSERT_EQ(jan31->size(), 1u);
  EXPECT_EQ((*jan31)[0].text, "end of january");
  EXPECT_EQ(read_text(dir.path() / "data/2025/01/15.cnt"), "0");
}

TEST_F(ArchiveRoomTest, PostingFromFourThreadsWhileArchivingLosesAndDoublesNothing) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 120;
  open(at(kNov20, 20));
  std::atomic<int> running{kThreads};
  std::atomic<int> failures{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i)
        if (!post("t" + std::to_string(t) + " #" + std::to_string(i)).is_ok()) ++failures;
      --running;
    });
  }
  // Meanwhile time runs fast (an hour per round) and the room is archived
  // again and again; pos must never go back.
  uint64_t last_pos = 0;
  int rounds = 0;
  while (running > 0 || rounds < 3) {
    clock.advance(minutes(60));
    auto r = room->archive(today_of(clock));
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    uint64_t pos = room->status().sequence;
    EXPECT_GE(pos, last_pos);
    last_pos = pos;
    ++rounds;
  }
  for (auto& t : posters) t.join();
  ASSERT_EQ(failures, 0);
  ASSERT_TRUE(room->archive(today_of(clock)).is_ok());
  EXPECT_EQ(room->status().sequence, static_cast<uint64_t>(kThreads * kPerThread));

  // Every post is in exactly one day file, or only in current.dat (the
  // posts current.dat keeps are also in their day files).
  std::map<std::string, int> in_days, in_current;
  for (const auto& e : fs::recursive_directory_iterator(dir.path() / "data")) {
    if (e.path().extension() != ".dat" || e.is_symlink()) continue;
    auto& counts = e.path().filename() == "current.dat" ? in_current : in_days;
    for (const Post& p : parse_log(read_text(e.path())).posts) ++counts[p.text];
  }
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string text = "t" + std::to_string(t) + " #" + std::to_string(i);
      int days = in_days.count(text) ? in_days[text] : 0;
      int live = in_current.count(text) ? in_current[text] : 0;
      EXPECT_LE(days, 1) << text << " doubled in the day files";
      EXPECT_LE(live, 1) << text << " doubled in current.dat";
      EXPECT_GE(days + live, 1) << text << " lost";
    }
  }
  EXPECT_EQ(
      in_days.size() + in_current.size() -
          [&] {
            size_t both = 0;
            for (const auto& [text, n] : in_current) both += in_days.count(text);
            return both;
          }(),
      static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace chaton
