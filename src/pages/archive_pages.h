// The archive browser (docs/PROTOCOL.md, "Archives"), below a room's `a/`:
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
// A day with posts loads the room's script all the same: it shows the
// times in the reader's time zone with day separators (the page says that
// its days are UTC days); without it the times stay UTC.
//
// A day longer than one page (kArchivePagePosts, kArchivePageBytes) is shown
// in pages (`a/YYYY/MM/DD?page=N`, 1 being the oldest), so one reply stays bounded
// however long the day. Such a page links to every page of the day, each
// with the time of its first post, and lists where each page starts in
// `data-entry-pages` for the room's script: a permalink to a post on a later
// page (its #entry-… is not sent to the server) opens page 1, and the script
// moves on to the page that holds the post (docs/PROTOCOL.md, "Archive days
// in pages"). A page number past the last shows the last page.
//
// Pure functions of plain data, thread-safe; the endpoints read a Room into
// these structs (endpoints/room_archive.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/post.h"
#include "render/html.h"
#include "store/store.h"  // DayCount (a plain struct; pages do not link the store)
#include "util/civil_time.h"

namespace chaton::pages {

using YearMonth = std::pair<int, int>;  // {year, month}

// Where the pages link to: everything absolute, from the room's public URL.
struct ArchiveRoom {
  std::string name;        // plain text
  std::string url;         // the room's absolute URL, ends with '/'
  RenderOptions render;    // for the posts
  std::string script_url;  // the room's script (absolute), loaded by a day in pages
};

// One page of an archive day holds at most kArchivePagePosts posts, and
// ends after the post that brings its nick and text bytes to
// kArchivePageBytes or over.
inline constexpr size_t kArchivePagePosts = 1000;
inline constexpr size_t kArchivePageBytes = 1 << 20;
inline constexpr size_t kMaxArchivePage = 1 << 20;  // a larger ?page= is taken as this (then the last)

struct MonthNav {
  int year = 1970, month = 1;
  std::vector<DayCount> days;               // days with posts, ascending
  std::optional<YearMonth> previous, next;  // nearest months with posts
};

struct DayPage {
  Date date;
  std::vector<Post> posts;             // this page's, oldest first
  std::optional<Date> previous, next;  // nearest days with posts
  MonthNav month;
  size_t page = 1;                                       // 1-based
  size_t total_posts = 0;                                // the whole day's
  std::vector<std::pair<int64_t, int64_t>> page_starts;  // {sec, usec} of each page's first post
};

// Page `page` (clamped to the day's pages) of a day's `posts`, into `p`.
void select_day_page(DayPage& p, std::vector<Post> posts, size_t page);

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

}  // namespace chaton::pages
