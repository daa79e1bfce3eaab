// Tests for the server's own daily archiving (DailyArchiver): the delay to
// the next UTC midnight, a midnight crossed in simulated time (the timer
// fires, asks the wall clock again and archives every room, writing
// logs/archive.log) while a reader long-polls, a wall clock that jumps past
// midnight, and run_now, the hook tests use. Nothing waits in real time:
// the test advances a SimulatedTimeSource, runs the io_context by hand and
// waits for the archiver's worker to be idle.
#include "server/daily_archiver.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rooms/room_helpers.h"
#include "store/file_store.h"
#include "support/simulated_time.h"

namespace chaton::server {
namespace {

namespace fs = std::filesystem;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Date kDay{2024, 12, 31};
constexpr Date kNextDay{2025, 1, 1};

SysTime at(Date d, int h, int m, int s, int ms = 0) {
  return from_seconds(seconds_from_date(d) + h * 3600 + m * 60 + s) + milliseconds(ms);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using testing::CountingWaiter;  // tests/rooms/room_helpers.h

TEST(DailyArchiverDelay, WaitsUntilJustAfterMidnightButNeverLongerThanAMinute) {
  EXPECT_EQ(delay_until_next_archive(at(kDay, 23, 59, 59, 500)), milliseconds(1500));
  EXPECT_EQ(delay_until_next_archive(at(kDay, 23, 59, 30)), seconds(31));
  EXPECT_EQ(delay_until_next_archive(at(kDay, 12, 0, 0)), kMaxTimerWait);
  EXPECT_EQ(delay_until_next_archive(at(kNextDay, 0, 0, 0)), kMaxTimerWait);
}

class DailyArchiverTest : public ::testing::Test {
 protected:
  DailyArchiverTest() {
    const char* base = std::getenv("CHATON_TEST_TMP");
    fs::path root = base && *base ? fs::path(base) : fs::temp_directory_path();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = root / ("daily-archiver-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    time_.set_system_time(at(kDay, 23, 50, 0));
    RoomSettings s;
    s.config.slug = "lobby";
    s.config.name = "Lobby";
    s.config.data_dir = dir_.string();
    s.url = "http://chat.example/lobby/";
    s.render.room_url = s.url;
    room_ = std::make_shared<Room>(std::move(s), std::make_unique<FileStore>(dir_), time_);
    EXPECT_TRUE(room_->open(nullptr).is_ok());
  }
  ~DailyArchiverTest() override {
    room_->close();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<Post> post(const std::string& text) { return testing::post_and_settle(*room_, "alice", text); }

  fs::path data() const { return dir_ / "data"; }

  // Moves time on, runs the timer handlers now due and waits until the
  // archiving they started is done.
  void advance(microseconds d, DailyArchiver& archiver) {
    time_.advance(d);
    ioc_.poll();
    archiver.wait_idle();
  }

  bool archived(const char* day) const {
    fs::path f = data() / day;
    return fs::exists(f) && !fs::is_symlink(f);
  }

  fs::path dir_;
  testing::SimulatedTimeSource time_;
  std::shared_ptr<Room> room_;
  boost::asio::io_context ioc_;  // polled by the test
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ioc_.get_executor()};
};

TEST_F(DailyArchiverTest, ArchivesEveryRoomWhenTheClockCrossesMidnight) {
  for (int i = 0; i < 40; ++i) {
    time_.advance(seconds(10));
    ASSERT_TRUE(post("old year " + std::to_string(i)).is_ok());
  }
  uint64_t pos = room_->status().sequence;
  auto waiter = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room_->wait(room_->allocate_cid(), pos, waiter));

  time_.set_system_time(at(kDay, 23, 59, 59, 800));  // the timer is set for 1.2 s from here
  DailyArchiver archiver(ioc_, time_, {room_});
  archiver.start();
  advance(milliseconds(1100), archiver);  // midnight, but not the grace after it
  EXPECT_FALSE(archived("2024/12/31.dat"));
  EXPECT_EQ(time_.pending_timers(), 1u);
  advance(milliseconds(100), archiver);

  ASSERT_TRUE(archived("2024/12/31.dat"));
  EXPECT_NE(
      read_text(dir_ / "logs/archive.log").find("archive 2025/01/01: archived 1 day: 2024/12/31 (40 posts)"),
      std::string::npos)
      << read_text(dir_ / "logs/archive.log");
  EXPECT_EQ(read_text(data() / "2024/12/31.cnt"), "40");
  EXPECT_TRUE(fs::is_symlink(data() / "2025/01/01.dat"));

  // The waiting reader was not disturbed; the next post reaches it.
  EXPECT_EQ(waiter->wakes, 0);
  EXPECT_EQ(room_->status().sequence, pos);
  ASSERT_TRUE(post("happy new year").is_ok());
  EXPECT_EQ(waiter->wakes, 1);
  EXPECT_EQ(room_->delta_since(pos, PacketFormat::json).pos, pos + 1);

  // The timer is armed again, and the day is not archived twice.
  EXPECT_EQ(time_.pending_timers(), 1u);
  const std::string log = read_text(dir_ / "logs/archive.log");
  advance(kMaxTimerWait, archiver);
  EXPECT_EQ(read_text(dir_ / "logs/archive.log"), log);
  archiver.stop();
  EXPECT_EQ(time_.pending_timers(), 0u);
}

// The wall clock may jump (NTP, a suspended machine): each wake-up asks it
// again, so a midnight jumped over is noticed within kMaxTimerWait.
TEST_F(DailyArchiverTest, AWallClockThatJumpsPastMidnightIsNoticedAtTheNextWakeUp) {
  ASSERT_TRUE(post("before the jump").is_ok());  // at 23:50: the timer waits kMaxTimerWait
  DailyArchiver archiver(ioc_, time_, {room_});
  archiver.start();
  time_.set_system_time(at(kNextDay, 0, 0, 5));
  advance(kMaxTimerWait - seconds(1), archiver);
  EXPECT_FALSE(archived("2024/12/31.dat"));
  advance(seconds(1), archiver);
  EXPECT_TRUE(archived("2024/12/31.dat"));
  EXPECT_EQ(read_text(data() / "2024/12/31.cnt"), "1");
  archiver.stop();
}

TEST_F(DailyArchiverTest, RunNowRunsTheSameJobAndTheTimerDoesNotRepeatIt) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(post("p " + std::to_string(i)).is_ok());
  DailyArchiver archiver(ioc_, time_, {room_});
  archiver.start();
  Status st = archiver.run_now(kNextDay);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(read_text(data() / "2024/12/31.cnt"), "3");
  EXPECT_NE(read_text(dir_ / "logs/archive.log").find("archive 2025/01/01: archived 1 day"),
            std::string::npos);
  archiver.stop();
  EXPECT_FALSE(archiver.run_now(kNextDay).is_ok());  // stopped: refused, not hung
}

}  // namespace
}  // namespace chaton::server
