// Reading a Room into the pages' data: the archive browser's replies
// (today/yesterday redirects, malformed dates, the nearest days across
// months, empty days, the month page and index), the days a search scans,
// and what a page shows of a room's settings.
#include "endpoints/page_data.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "search/search.h"
#include "support/posts.h"
#include "util/clock.h"

namespace chaton::endpoints {

using pages::ArchiveRoom;
using pages::PageRoom;
namespace {

constexpr int64_t kNov24 = 1732406400;  // 2024/11/24 00:00:00 UTC
constexpr int64_t kDay = 86400;
const std::string kUrl = "http://host/lobby/";

using testing::make_post;

// ---- a Room over an in-memory archive

class ArchiveStore final : public Store {
 public:
  explicit ArchiveStore(std::map<Date, std::vector<Post>> days) : days_(std::move(days)) {}
  Result<StoreSnapshot> open() override { return StoreSnapshot{}; }
  Status append(std::span<Post>) override { return {}; }
  void record_num_chatters(size_t) override {}
  Result<std::vector<Post>> read_day(Date day) override {
    auto it = days_.find(day);
    if (it == days_.end()) return Status(Errc::not_found, "no such day");
    return it->second;
  }
  std::vector<DayCount> days_in_month(int year, int month) override {
    std::vector<DayCount> out;
    for (const auto& [d, posts] : days_)
      if (d.year == year && d.month == month) out.push_back(DayCount{d, posts.size()});
    return out;
  }
  std::vector<std::pair<int, int>> months() override {
    std::vector<std::pair<int, int>> out;
    for (const auto& [d, posts] : days_)
      if (out.empty() || out.back() != std::make_pair(d.year, d.month)) out.emplace_back(d.year, d.month);
    return out;
  }

 private:
  std::map<Date, std::vector<Post>> days_;
};

class ArchiveRoomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<Date, std::vector<Post>> days;
    auto add = [&](int64_t sec, std::string nick, std::string text) {
      days[utc_from_seconds(sec).date].push_back(make_post(std::move(nick), sec, 5, std::move(text)));
    };
    add(kNov24 - 40 * kDay + 100, "old", "in October");  // 2024/10/15
    add(kNov24 + 3600, "shiro", "hello <b>world</b>");   // 2024/11/24
    add(kNov24 + 3700, "shiro", "second");
    add(kNov24 + 2 * kDay + 60, "kaz", "two days later");  // 2024/11/26
    add(kNov24 + 40 * kDay, "new", "in January");          // 2025/01/03
    RoomSettings s;
    s.config.slug = "lobby";
    s.config.name = "The <Lobby>";
    s.config.url_path = "/lobby/";
    s.url = kUrl;
    s.render.room_url = kUrl;
    room_ = std::make_unique<Room>(s, std::make_unique<ArchiveStore>(std::move(days)), clock_);
  }

  ManualClock clock_{from_seconds(kNov24 + 50 * kDay)};
  std::unique_ptr<Room> room_;
};

// ---- archive_reply

TEST_F(ArchiveRoomTest, TodayAndYesterdayRedirect) {
  Date today{2025, 1, 1};
  PageReply t = archive_reply(*room_, "today", today);
  EXPECT_EQ(t.status, 302);
  EXPECT_EQ(t.location, std::string(kUrl) + "a/2025/01/01");
  PageReply y = archive_reply(*room_, "yesterday", today);
  EXPECT_EQ(y.status, 302);
  EXPECT_EQ(y.location, std::string(kUrl) + "a/2024/12/31");
}

TEST_F(ArchiveRoomTest, MalformedDatesAre404) {
  for (const char* path : {"2024/11/31", "2024/13/01", "2024/11/2", "24/11/24", "2024/11/24/x", "2024-11-24",
                           "yesterdays", "2024/00", "x"}) {
    PageReply r = archive_reply(*room_, path, Date{2025, 1, 1});
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_NE(r.body.find("There is no archive page here"), std::string::npos) << path;
  }
}

TEST_F(ArchiveRoomTest, DayWithPostsLinksToNearestDaysAcrossMonths) {
  PageReply r = archive_reply(*room_, "2024/11/24", Date{2025, 1, 1});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("hello &lt;b&gt;world&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(r.body.find("href=\"http://host/lobby/a/2024/10/15\" class=\"prev-day\""), std::string::npos);
  EXPECT_NE(r.body.find("href=\"http://host/lobby/a/2024/11/26\" class=\"next-day\""), std::string::npos);
  EXPECT_NE(r.body.find("href=\"http://host/lobby/a/2024/10\" class=\"prev-month\""), std::string::npos);
  EXPECT_NE(r.body.find("href=\"http://host/lobby/a/2025/01\" class=\"next-month\""), std::string::npos);
  EXPECT_NE(r.body.find("The &lt;Lobby&gt; &gt; Archives &gt; 2024/11/24"), std::string::npos);
  EXPECT_EQ(r.body.find("The <Lobby>"), std::string::npos);

  PageReply last = archive_reply(*room_, "2025/01/03", Date{2025, 1, 4});
  EXPECT_NE(last.body.find("href=\"http://host/lobby/a/2024/11/26\" class=\"prev-day\""), std::string::npos);
  EXPECT_EQ(last.body.find("rel=\"next\""), std::string::npos);
  PageReply first = archive_reply(*room_, "2024/10/15", Date{2025, 1, 4});
  EXPECT_EQ(first.body.find("rel=\"prev\""), std::string::npos);
}

TEST_F(ArchiveRoomTest, ValidDayWithoutPostsIsAnEmptyDay) {
  PageReply r = archive_reply(*room_, "2024/11/25", Date{2025, 1, 1});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("No posts on this day."), std::string::npos);
  EXPECT_NE(r.body.find("href=\"http://host/lobby/a/2024/11/24\" class=\"prev-day\""), std::string::npos);
  EXPECT_NE(r.body.find("href=\"http://host/lobby/a/2024/11/26\" class=\"next-day\""), std::string::npos);
  PageReply future = archive_reply(*room_, "2030/06/01", Date{2025, 1, 1});
  EXPECT_EQ(future.status, 200);
  EXPECT_EQ(future.body.find("rel=\"next\""), std::string::npos);
  EXPECT_NE(future.body.find("href=\"http://host/lobby/a/2025/01/03\" class=\"prev-day\""),
            std::string::npos);
}

TEST_F(ArchiveRoomTest, MonthPageAndIndex) {
  PageReply m = archive_reply(*room_, "2024/11", Date{2025, 1, 1});
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("3 posts on 2 days."), std::string::npos);
  EXPECT_EQ(archive_reply(*room_, "2024/11/", Date{2025, 1, 1}).status, 200);
  PageReply idx = archive_reply(*room_, "", Date{2025, 1, 1});
  EXPECT_EQ(idx.status, 200);
  EXPECT_NE(idx.body.find(">November</a> <span class=\"count\">3 posts on 2 days"), std::string::npos);
  EXPECT_NE(idx.body.find(">January</a> <span class=\"count\">1 post on 1 day"), std::string::npos);
}

TEST_F(ArchiveRoomTest, SearchOverTheRoomsDays) {
  RoomDays days(*room_);
  auto found = search::find(days, search::parse_query("IN"), 1);
  ASSERT_EQ(found.hits.size(), 2u);
  EXPECT_EQ(found.hits[0].post.text, "in January");
  EXPECT_EQ(found.hits[1].post.text, "in October");
}

// ---- what the pages show of a room

TEST(PageRoomOf, TheSettingsPagesShow) {
  RoomSettings s;
  s.config.name = "Lobby";
  s.config.description = "Say <em>hi</em>";
  s.config.icon_url = "http://host/icon.png";
  s.url = kUrl;
  s.render.room_url = kUrl;
  PageRoom p = page_room(s);
  EXPECT_EQ(p.name, "Lobby");
  EXPECT_EQ(p.url, kUrl);
  EXPECT_EQ(p.description, "Say <em>hi</em>");
  EXPECT_EQ(p.icon_url, "http://host/icon.png");
  EXPECT_EQ(p.render.room_url, kUrl);
  EXPECT_EQ(p.script_url, "");
  // The room's script, for the pages that load it (search), as for the archive.
  EXPECT_EQ(page_room(s, kUrl + "chaton.x.js").script_url, kUrl + "chaton.x.js");
  ArchiveRoom a = archive_room(s, kUrl + "chaton.x.js");
  EXPECT_EQ(a.name, "Lobby");
  EXPECT_EQ(a.script_url, kUrl + "chaton.x.js");
}

}  // namespace
}  // namespace chaton::endpoints
