// The pages' data read from a Room: see page_data.h.
#include "endpoints/page_data.h"

#include <algorithm>
#include <functional>

namespace chaton::endpoints {

using pages::ArchiveRoom;
using pages::DayPage;
using pages::MonthNav;
using pages::MonthSummary;
using pages::PageRoom;
using pages::render_archive_not_found;
using pages::render_day_page;
using pages::render_month_page;
using pages::render_months_index;
using pages::select_day_page;
using pages::YearMonth;

namespace {

constexpr int kMinYear = 1970;
constexpr int kMaxYear = 9999;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<DayCount> days_with_posts(Room& room, int year, int month) {
  auto days = room.days_in_month(year, month);
  std::erase_if(days, [](const DayCount& d) { return d.posts == 0; });
  std::sort(days.begin(), days.end(), [](const auto& a, const auto& b) { return a.date < b.date; });
  return days;
}

// The nearest day with posts before (or after) `d`, looking through this
// month and then the months that have posts.
std::optional<Date> nearest_day(Room& room, const MonthNav& m, const std::vector<YearMonth>& months, Date d,
                                bool before) {
  if (before) {
    for (auto it = m.days.rbegin(); it != m.days.rend(); ++it)
      if (it->date < d) return it->date;
    for (auto it = months.rbegin(); it != months.rend(); ++it) {
      if (*it >= YearMonth{d.year, d.month}) continue;
      auto days = days_with_posts(room, it->first, it->second);
      if (!days.empty()) return days.back().date;
    }
  } else {
    for (const auto& c : m.days)
      if (c.date > d) return c.date;
    for (const auto& ym : months) {
      if (ym <= YearMonth{d.year, d.month}) continue;
      auto days = days_with_posts(room, ym.first, ym.second);
      if (!days.empty()) return days.front().date;
    }
  }
  return std::nullopt;
}

std::vector<YearMonth> sorted_months(Room& room) {
  auto months = room.months();
  std::sort(months.begin(), months.end());
  months.erase(std::unique(months.begin(), months.end()), months.end());
  return months;
}

MonthNav load_month(Room& room, int year, int month, const std::vector<YearMonth>& months) {
  MonthNav m;
  m.year = year;
  m.month = month;
  m.days = days_with_posts(room, year, month);
  YearMonth self{year, month};
  for (const auto& ym : months) {
    if (ym < self) m.previous = ym;
    if (ym > self && !m.next) m.next = ym;
  }
  return m;
}
}  // namespace

PageRoom page_room(const RoomSettings& s) {
  return PageRoom{s.config.name, s.url, s.config.description, s.config.icon_url, s.render, {}};
}

ArchiveRoom archive_room(const RoomSettings& s, std::string script_url) {
  return ArchiveRoom{s.config.name, s.url, s.render, std::move(script_url)};
}

MonthNav load_month(Room& room, int year, int month) {
  return load_month(room, year, month, sorted_months(room));
}

DayPage load_day(Room& room, Date date, size_t page) {
  DayPage p;
  p.date = date;
  std::vector<Post> posts;
  if (auto r = room.day(date); r.is_ok()) posts = std::move(r).value();
  select_day_page(p, std::move(posts), page);
  auto months = sorted_months(room);
  p.month = load_month(room, date.year, date.month, months);
  p.previous = nearest_day(room, p.month, months, date, true);
  p.next = nearest_day(room, p.month, months, date, false);
  return p;
}

std::vector<MonthSummary> load_months(Room& room) {
  std::vector<MonthSummary> out;
  for (const auto& [year, month] : sorted_months(room)) {
    MonthSummary s{year, month, 0, 0};
    for (const auto& d : days_with_posts(room, year, month)) {
      s.posts += d.posts;
      ++s.days;
    }
    if (s.days > 0) out.push_back(s);
  }
  return out;
}

PageReply archive_reply(Room& room, std::string_view path, Date today, size_t page, std::string script_url) {
  ArchiveRoom ar = archive_room(room.settings(), std::move(script_url));
  const std::string& base = room.settings().url;  // absolute: docs/PROTOCOL.md
  if (path.empty()) return PageReply{200, {}, render_months_index(ar, load_months(room))};
  if (path == "today") return PageReply{302, base + "a/" + format_date_path(today), {}};
  if (path == "yesterday") return PageReply{302, base + "a/" + format_date_path(previous_day(today)), {}};

  if (auto d = parse_date_path(path))
    return PageReply{200, {}, render_day_page(ar, load_day(room, *d, page)), *d < today};

  // YYYY/MM or YYYY/MM/
  std::string_view ym = path;
  if (ym.ends_with('/')) ym.remove_suffix(1);
  if (ym.size() == 7 && ym[4] == '/' && all_digits(ym.substr(0, 4)) && all_digits(ym.substr(5, 2))) {
    int year = std::stoi(std::string(ym.substr(0, 4)));
    int month = std::stoi(std::string(ym.substr(5, 2)));
    if (year >= kMinYear && year <= kMaxYear && month >= 1 && month <= 12)
      return PageReply{200, {}, render_month_page(ar, load_month(room, year, month))};
  }
  return PageReply{404, {}, render_archive_not_found(ar, path)};
}
// ---- RoomDays

RoomDays::RoomDays(Room& room) : room_(room) {}

const std::vector<Post>& RoomDays::window() {
  if (!window_) window_ = room_.recent_posts(kMaxWindowPosts);
  return *window_;
}

std::vector<Date> RoomDays::days() {
  std::vector<Date> out;
  for (const auto& p : window()) {
    Date d = utc_from_seconds(p.sec).date;
    if (out.empty() || out.back() != d) out.push_back(d);
  }
  for (const auto& [year, month] : room_.months())
    for (const auto& dc : room_.days_in_month(year, month))
      if (dc.posts > 0) out.push_back(dc.date);
  std::sort(out.begin(), out.end(), std::greater<>());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<Post> RoomDays::posts(Date day) {
  if (auto r = room_.day(day); r.is_ok()) return std::move(r).value();
  std::vector<Post> out;
  for (const auto& p : window())
    if (utc_from_seconds(p.sec).date == day) out.push_back(p);
  return out;
}

}  // namespace chaton::endpoints
