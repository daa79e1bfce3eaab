// The archive browser (spec A9), below a room's `a/`:
//
//   a/YYYY/MM/DD   one UTC day: title "<room> > Archives > YYYY/MM/DD", links
//                  to the previous and next day that have posts (only where
//                  such a day exists), "Back to the chat room", the day's
//                  posts, and the month navigator. A valid date without posts
//                  is an empty day (200) with the same navigation.
//   a/YYYY/MM      the month navigator on its own: a calendar of the month
//                  with each day's post count, and the previous and next
//                  month that have posts.
//   a/             the index of the months, by year, with post counts.
//   a/today, a/yesterday   redirect (302) to the dated URL (UTC), absolute.
//   anything else  404 with a friendly page that links back.
//
// A permalink (<room>a/YYYY/MM/DD#entry-…) opens the day scrolled to the
// post, which the stylesheet highlights (:target): no script is needed.
//
// The renderers are pure functions of plain data (unit-tested); the
// loaders read a Room. Thread-safe as the Room is.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "render/html.h"
#include "rooms/room.h"
#include "store/store.h"
#include "util/civil_time.h"

namespace chaton::http {

using YearMonth = std::pair<int, int>;  // {year, month}

// Where the pages link to: everything absolute, from the room's public URL.
struct ArchiveRoom {
  std::string name;      // plain text
  std::string url;       // the room's absolute URL, ends with '/'
  RenderOptions render;  // for the posts
};
ArchiveRoom archive_room(const RoomSettings& settings);

struct MonthNav {
  int year = 1970, month = 1;
  std::vector<DayCount> days;  // days with posts, ascending
  std::optional<YearMonth> previous, next;  // nearest months with posts
};

struct DayPage {
  Date date;
  std::vector<Post> posts;  // oldest first
  std::optional<Date> previous, next;  // nearest days with posts
  MonthNav month;
};

struct MonthSummary {
  int year = 1970, month = 1;
  uint64_t posts = 0;
  size_t days = 0;
};

std::string render_day_page(const ArchiveRoom& room, const DayPage& page);
std::string render_month_page(const ArchiveRoom& room, const MonthNav& month);
std::string render_months_index(const ArchiveRoom& room, const std::vector<MonthSummary>& months);
std::string render_archive_not_found(const ArchiveRoom& room, std::string_view what);

// "November 2024"
std::string month_name(int year, int month);

// ---- reading a Room

MonthNav load_month(Room& room, int year, int month);
DayPage load_day(Room& room, Date date);
std::vector<MonthSummary> load_months(Room& room);

// A reply for a path below "a/" (the part after it, percent-decoded).
struct PageReply {
  int status = 200;          // 200, 302 or 404
  std::string location;      // for 302: an absolute URL (the room's public URL)
  std::string body;          // HTML for 200 and 404
};
PageReply archive_reply(Room& room, std::string_view path, Date today);

}  // namespace chaton::http
