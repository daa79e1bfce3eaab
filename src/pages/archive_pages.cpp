// The archive browser: see archive_pages.h.
#include "pages/archive_pages.h"

#include <algorithm>
#include <array>

#include "messages/post_pages.h"
#include "pages/pages.h"
#include "util/text.h"

namespace chaton::pages {

namespace {

constexpr std::array<const char*, 12> kMonthNames = {"January",   "February", "March",    "April",
                                                     "May",       "June",     "July",     "August",
                                                     "September", "October",  "November", "December"};
constexpr std::array<const char*, 12> kMonthShort = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<const char*, 7> kWeekdays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                  "Friday", "Saturday", "Sunday"};

std::string esc(std::string_view s) { return html_escape(s); }

std::string two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

std::string month_path(int year, int month) { return std::to_string(year) + "/" + two(month); }

// "Nov 2024", for the previous/next month links.
std::string short_month(int year, int month) {
  return std::string(kMonthShort[static_cast<size_t>(std::clamp(month, 1, 12) - 1)]) + " " +
         std::to_string(year);
}

std::string count_text(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string link(std::string_view href, std::string_view text_html, std::string_view attrs = {}) {
  std::string h = "<a href=\"" + esc(href) + "\"";
  if (!attrs.empty()) h += " " + std::string(attrs);
  return h + ">" + std::string(text_html) + "</a>";
}

// Monday = 0 ... Sunday = 6.
int weekday(Date d) {
  int64_t days = days_from_civil(d);
  return static_cast<int>(((days + 3) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
}

PageFrame frame(const ArchiveRoom& room, std::string title) {
  PageFrame f;
  f.title = std::move(title);
  f.css_url = room.url + stylesheet_name(room.render.img_size_limit);
  f.rss_url = room.url + "var/index.rdf";
  f.rss_title = room.name;
  f.body_class = "archive-page";
  return f;
}

// "<h1><a>room</a> > <a>Archives</a> > last</h1>"; `last_html` empty: Archives is the last.
std::string crumbs(const ArchiveRoom& room, std::string_view last_html) {
  std::string h = "<header class=\"page-header\"><h1 class=\"crumbs\">" + link(room.url, esc(room.name)) +
                  " <span class=\"sep\">&gt;</span> ";
  if (last_html.empty()) {
    h += "Archives";
  } else {
    h += link(room.url + "a/", "Archives") + " <span class=\"sep\">&gt;</span> ";
    h += "<span aria-current=\"page\">" + std::string(last_html) + "</span>";
  }
  return h + "</h1></header>\n";
}

std::string footer(const ArchiveRoom& room) {
  return "<footer class=\"page-footer\">" + link(room.url, "Back to the chat room") +
         link(room.url + "a/", "All months") + link(room.url + "search", "Search") +
         link(room.url + "var/index.rdf", "RSS", "type=\"application/rss+xml\"") + "</footer>\n";
}

// The month navigator: previous month, this month, the calendar of its
// days with their post counts, next month. `current` marks one day.
std::string month_nav(const ArchiveRoom& room, const MonthNav& m, std::optional<Date> current,
                      int heading_level) {
  std::string hl = std::to_string(heading_level);
  std::string id = "month-" + std::to_string(m.year) + "-" + two(m.month);
  std::string h = "<section class=\"month-nav\" aria-labelledby=\"" + id + "\">\n<div class=\"month-head\">";
  if (m.previous)
    h += link(room.url + "a/" + month_path(m.previous->first, m.previous->second),
              "&lsaquo; " + short_month(m.previous->first, m.previous->second), "class=\"prev-month\"");
  else
    h += "<span class=\"prev-month\"></span>";
  h += "<h" + hl + " id=\"" + id + "\">" +
       link(room.url + "a/" + month_path(m.year, m.month), esc(month_name(m.year, m.month))) + "</h" + hl +
       ">";
  if (m.next)
    h += link(room.url + "a/" + month_path(m.next->first, m.next->second),
              short_month(m.next->first, m.next->second) + " &rsaquo;", "class=\"next-month\"");
  else
    h += "<span class=\"next-month\"></span>";
  h += "</div>\n<table class=\"calendar\"><thead><tr>";
  for (const char* wd : kWeekdays)
    h += "<th scope=\"col\" abbr=\"" + std::string(wd) + "\">" + std::string(wd).substr(0, 2) + "</th>";
  h += "</tr></thead>\n<tbody><tr>";
  int lead = weekday(Date{m.year, m.month, 1});
  for (int i = 0; i < lead; ++i) h += "<td></td>";
  int n = days_in_month(m.year, m.month);
  int column = lead;
  uint64_t total = 0;
  for (int day = 1; day <= n; ++day) {
    if (column == 7) {
      h += "</tr>\n<tr>";
      column = 0;
    }
    Date d{m.year, m.month, day};
    auto it = std::find_if(m.days.begin(), m.days.end(), [&](const DayCount& c) { return c.date == d; });
    bool is_current = current && *current == d;
    if (it != m.days.end() && it->posts > 0) {
      total += it->posts;
      h += is_current ? "<td class=\"has-posts current\">" : "<td class=\"has-posts\">";
      h += "<a href=\"" + esc(room.url + "a/" + format_date_path(d)) + "\"";
      if (is_current) h += " aria-current=\"date\"";
      // The hidden comma keeps the link's name "28, 3 posts", not "283 posts".
      h += "><span class=\"day-number\">" + std::to_string(day) +
           "</span><span class=\"visually-hidden\">, </span><span class=\"day-count\">" +
           std::to_string(it->posts) + "<span class=\"visually-hidden\">" +
           (it->posts == 1 ? " post" : " posts") + "</span></span></a></td>";
    } else {
      h += is_current ? "<td class=\"current\" aria-current=\"date\">" : "<td>";
      h += "<span class=\"day-number\">" + std::to_string(day) + "</span></td>";
    }
    ++column;
  }
  for (; column < 7; ++column) h += "<td></td>";
  h += "</tr></tbody></table>\n<p class=\"month-total\">" +
       (total == 0
            ? std::string("No posts this month.")
            : count_text(total, "post", "posts") + " on " + count_text(m.days.size(), "day", "days") + ".") +
       "</p>\n</section>\n";
  return h;
}

// "HH:MM:SS" (UTC) of `sec`.
std::string time_of_day(int64_t sec) {
  DateTime t = utc_from_seconds(sec);
  return two(t.hour) + ":" + two(t.minute) + ":" + two(t.second);
}

std::string day_link(const ArchiveRoom& room, Date d, bool previous) {
  std::string ds = format_date_path(d);
  return link(room.url + "a/" + ds, previous ? "&larr; " + ds : ds + " &rarr;",
              previous ? "class=\"prev-day\" rel=\"prev\"" : "class=\"next-day\" rel=\"next\"");
}

std::string day_nav(const ArchiveRoom& room, const DayPage& p, std::string_view label) {
  std::string h = "<nav class=\"day-nav\" aria-label=\"" + std::string(label) + "\">";
  h += p.previous ? day_link(room, *p.previous, true) : "<span class=\"prev-day\"></span>";
  h += link(room.url, "Back to the chat room", "class=\"back\"");
  h += p.next ? day_link(room, *p.next, false) : "<span class=\"next-day\"></span>";
  return h + "</nav>\n";
}

}  // namespace

std::string month_name(int year, int month) {
  if (month < 1 || month > 12) return std::to_string(year) + "/" + two(month);
  return std::string(kMonthNames[static_cast<size_t>(month - 1)]) + " " + std::to_string(year);
}

void select_day_page(DayPage& p, std::vector<Post> posts, size_t page) {
  p.total_posts = posts.size();
  p.page_starts.clear();
  std::vector<size_t> firsts;  // the index of each page's first post
  for (size_t i = 0; i < posts.size(); i = page_end(posts, i, kArchivePagePosts, kArchivePageBytes)) {
    firsts.push_back(i);
    p.page_starts.emplace_back(posts[i].sec, posts[i].usec);
  }
  size_t pages = std::max<size_t>(firsts.size(), 1);
  p.page = std::clamp<size_t>(page, 1, pages);
  size_t begin = firsts.empty() ? 0 : firsts[p.page - 1];
  size_t end = p.page < firsts.size() ? firsts[p.page] : posts.size();
  if (begin == 0 && end == posts.size()) {
    p.posts = std::move(posts);
  } else {
    p.posts.assign(std::make_move_iterator(posts.begin() + static_cast<ptrdiff_t>(begin)),
                   std::make_move_iterator(posts.begin() + static_cast<ptrdiff_t>(end)));
  }
}

// ---- rendering

std::string render_day_page(const ArchiveRoom& room, const DayPage& p) {
  std::string ds = format_date_path(p.date);
  size_t pages = p.page_starts.size();
  bool paged = pages > 1;
  size_t total = std::max(p.total_posts, p.posts.size());
  std::string day_url = room.url + "a/" + ds;
  auto page_url = [&](size_t n) { return n <= 1 ? day_url : day_url + "?page=" + std::to_string(n); };
  PageFrame f = frame(
      room, room.name + " > Archives > " + ds +
                (paged ? " (page " + std::to_string(p.page) + " of " + std::to_string(pages) + ")" : ""));
  f.canonical = page_url(p.page);
  f.description = room.name + ": the chat of " + ds + " (UTC), " + count_text(total, "post", "posts") + ".";
  f.noindex = p.posts.empty();
  if (paged && p.page > 1) {
    f.prev_url = page_url(p.page - 1);
  } else if (p.previous) {
    f.prev_url = room.url + "a/" + format_date_path(*p.previous);
  }
  if (paged && p.page < pages) {
    f.next_url = page_url(p.page + 1);
  } else if (p.next) {
    f.next_url = room.url + "a/" + format_date_path(*p.next);
  }
  std::string pager;
  if (paged) {
    // Where each page starts, for the script that sends a permalink on.
    std::string starts;
    for (const auto& [sec, usec] : p.page_starts) {
      if (!starts.empty()) starts += ' ';
      starts += entry_id(sec, usec);
    }
    f.body_attributes =
        " data-entry-pages=\"" + esc(starts) + "\" data-page=\"" + std::to_string(p.page) + "\"";
    pager = "<nav class=\"day-pages\" aria-label=\"Pages of " + ds + "\"><span>Page " +
            std::to_string(p.page) + " of " + std::to_string(pages) + ", from</span>";
    for (size_t n = 1; n <= pages; ++n) {
      std::string when = time_of_day(p.page_starts[n - 1].first);
      if (n == p.page)
        pager += " <span aria-current=\"page\">" + esc(when) + "</span>";
      else
        pager += " " + link(page_url(n), esc(when));
    }
    pager += "</nav>\n";
  }

  // The script shows the posts' times in the reader's zone, with day
  // separators, and sends a permalink on to its page.
  if (!p.posts.empty()) f.script_url = room.script_url;

  std::string h = page_open(f);
  h += "<div class=\"page archive\">\n" + crumbs(room, esc(ds));
  // The day is a UTC day (its URL says so); the times below may not be.
  h += "<p class=\"utc-note\">Days are in UTC<span class=\"time-zone-note\">, and so are the "
       "times</span>.</p>\n";
  h += day_nav(room, p, "Days");
  h += pager;
  h += "<div class=\"archive-layout\">\n<main class=\"day\" id=\"posts\">\n";
  if (p.posts.empty()) {
    h += "<p class=\"empty\">No posts on this day.</p>\n";
  } else {
    h += "<h2 class=\"visually-hidden\">Posts of " + ds + "</h2>\n";
    h += "<div class=\"view day-posts\">" + render_posts(p.posts, nullptr, room.render) + "</div>\n";
    h += "<p class=\"day-total\">" + count_text(total, "post", "posts") + " on " + ds;
    if (paged) h += " (" + count_text(p.posts.size(), "post", "posts") + " on this page)";
    h += " (UTC).</p>\n";
  }
  h += "</main>\n<aside class=\"archive-side\" aria-label=\"Month\">\n";
  h += month_nav(room, p.month, p.date, 2);
  h += "</aside>\n</div>\n";
  h += pager;
  if (!p.posts.empty()) h += day_nav(room, p, "Days (bottom)");
  h += footer(room) + "</div>\n" + page_close();
  return h;
}

std::string render_month_page(const ArchiveRoom& room, const MonthNav& m) {
  std::string title = month_name(m.year, m.month);
  PageFrame f = frame(room, room.name + " > Archives > " + title);
  f.canonical = room.url + "a/" + month_path(m.year, m.month);
  f.noindex = m.days.empty();
  std::string h = page_open(f);
  h += "<div class=\"page archive\">\n" + crumbs(room, esc(title));
  h += "<main class=\"month-page\">\n" + month_nav(room, m, std::nullopt, 2) + "</main>\n";
  h += footer(room) + "</div>\n" + page_close();
  return h;
}

std::string render_months_index(const ArchiveRoom& room, const std::vector<MonthSummary>& months) {
  PageFrame f = frame(room, room.name + " > Archives");
  f.canonical = room.url + "a/";
  f.description = "The archives of " + room.name + ", month by month.";
  std::string h = page_open(f);
  h += "<div class=\"page archive\">\n" + crumbs(room, "");
  h += "<main class=\"months-index\">\n";
  h += "<p class=\"quick-links\">" + link(room.url + "a/today", "Today") +
       link(room.url + "a/yesterday", "Yesterday") + link(room.url + "search", "Search") + "</p>\n";
  if (months.empty()) h += "<p class=\"empty\">Nothing archived yet.</p>\n";
  std::vector<MonthSummary> sorted = months;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return YearMonth{a.year, a.month} > YearMonth{b.year, b.month};
  });
  int year = 0;
  for (const auto& m : sorted) {
    if (m.year != year) {
      if (year != 0) h += "</ul></section>\n";
      year = m.year;
      h += "<section class=\"year\"><h2>" + std::to_string(year) + "</h2><ul class=\"month-list\">";
    }
    h += "<li>" +
         link(room.url + "a/" + month_path(m.year, m.month),
              esc(kMonthNames[static_cast<size_t>(std::clamp(m.month, 1, 12) - 1)])) +
         " <span class=\"count\">" + count_text(m.posts, "post", "posts") + " on " +
         count_text(m.days, "day", "days") + "</span></li>";
  }
  if (year != 0) h += "</ul></section>\n";
  h += "</main>\n" + footer(room) + "</div>\n" + page_close();
  return h;
}

std::string render_archive_not_found(const ArchiveRoom& room, std::string_view what) {
  PageFrame f = frame(room, room.name + " > Archives > not found");
  f.noindex = true;
  std::string h = page_open(f);
  h += "<div class=\"page archive\">\n" + crumbs(room, "Not found");
  h += "<main class=\"not-found\"><h2>There is no archive page here</h2>"
       "<p><code>a/" +
       esc(what) +
       "</code> is not a day of this room&#39;s archive. "
       "Days are written <code>a/YYYY/MM/DD</code>, for example <code>a/2024/11/24</code>; "
       "months <code>a/YYYY/MM</code>.</p><p class=\"quick-links\">" +
       link(room.url + "a/today", "Today") + link(room.url + "a/yesterday", "Yesterday") +
       link(room.url + "a/", "All months") + "</p></main>\n";
  h += footer(room) + "</div>\n" + page_close();
  return h;
}

}  // namespace chaton::pages
