// Tests for the server-rendered pages, as functions of plain data: the
// archive browser (day page, month navigator with counts, months index,
// friendly 404), search results, the badge in its three forms, the room
// page and index — and that everything user-supplied is escaped and no
// page carries inline script or style. Reading a Room into these pages is
// tested in tests/endpoints/page_data_test.cpp.

#include "pages/pages.h"
#include "pages/archive_pages.h"
#include "pages/badge.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "search/search.h"
#include "support/posts.h"

namespace chaton::pages {
namespace {

using testing::make_post;

constexpr int64_t kNov24 = 1732406400;  // 2024/11/24 00:00:00 UTC
constexpr int64_t kDay = 86400;
const std::string kUrl = "http://host/lobby/";

ArchiveRoom room_named(std::string name) {
  ArchiveRoom r;
  r.name = std::move(name);
  r.url = kUrl;
  r.render.room_url = kUrl;
  return r;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// No inline script, no event handler attribute, no style attribute or element.
void expect_csp_clean(const std::string& html) {
  EXPECT_FALSE(std::regex_search(html, std::regex("<script(?![^>]*\\ssrc=)[^>]*>"))) << "inline script";
  EXPECT_FALSE(std::regex_search(html, std::regex("<[^>]+\\son[a-z]+\\s*=", std::regex::icase)))
      << "event handler attribute";
  EXPECT_FALSE(std::regex_search(html, std::regex("<[^>]+\\sstyle\\s*=", std::regex::icase)))
      << "style attribute";
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find("javascript:"), std::string::npos);
}

// ---- day page

TEST(DayPage, TitleNavigationPostsAndNavigator) {
  DayPage p;
  p.date = Date{2024, 11, 24};
  p.posts = {make_post("shiro", kNov24 + 3600, 5, "hello"), make_post("kaz", kNov24 + 7200, 5, "hi")};
  p.previous = Date{2024, 11, 20};
  p.next = Date{2024, 12, 1};
  p.month.year = 2024;
  p.month.month = 11;
  p.month.days = {DayCount{{2024, 11, 20}, 7}, DayCount{{2024, 11, 24}, 2}};
  p.month.previous = std::make_pair(2024, 10);
  p.month.next = std::make_pair(2024, 12);
  std::string h = render_day_page(room_named("Lobby"), p);

  EXPECT_NE(h.find("<title>Lobby &gt; Archives &gt; 2024/11/24</title>"), std::string::npos);
  EXPECT_NE(h.find("href=\"http://host/lobby/a/2024/11/20\" class=\"prev-day\" rel=\"prev\""),
            std::string::npos);
  EXPECT_NE(h.find("href=\"http://host/lobby/a/2024/12/01\" class=\"next-day\" rel=\"next\""),
            std::string::npos);
  EXPECT_NE(h.find(">Back to the chat room</a>"), std::string::npos);
  EXPECT_NE(h.find("\">shiro</span>"), std::string::npos);
  EXPECT_NE(h.find("id=\"entry-"), std::string::npos);
  EXPECT_NE(h.find("<link rel=\"canonical\" href=\"http://host/lobby/a/2024/11/24\">"), std::string::npos);
  EXPECT_EQ(h.find("noindex"), std::string::npos);
  // The navigator: previous and next month, this month, each day with its count.
  EXPECT_NE(h.find("href=\"http://host/lobby/a/2024/10\" class=\"prev-month\""), std::string::npos);
  EXPECT_NE(h.find("href=\"http://host/lobby/a/2024/12\" class=\"next-month\""), std::string::npos);
  EXPECT_NE(h.find(">November 2024</a>"), std::string::npos);
  // A link's name keeps the day and the count apart: "20, 7 posts", not "207 posts".
  EXPECT_NE(h.find("<a href=\"http://host/lobby/a/2024/11/20\"><span class=\"day-number\">20</span>"
                   "<span class=\"visually-hidden\">, </span>"
                   "<span class=\"day-count\">7<span class=\"visually-hidden\"> posts</span>"),
            std::string::npos);
  EXPECT_NE(
      h.find("<td class=\"has-posts current\"><a href=\"http://host/lobby/a/2024/11/24\" "
             "aria-current=\"date\"><span class=\"day-number\">24</span><span class=\"visually-hidden\">, "
             "</span><span class=\"day-count\">2"),
      std::string::npos);
  EXPECT_NE(h.find("9 posts on 2 days."), std::string::npos);
  EXPECT_EQ(count(h, "class=\"has-posts"), 2u);
  expect_csp_clean(h);
}

TEST(DayPage, NoPreviousOrNextLinkWhereNoDayExists) {
  DayPage p;
  p.date = Date{2024, 11, 24};
  p.posts = {make_post("a", kNov24, 5, "only day")};
  p.month.year = 2024;
  p.month.month = 11;
  p.month.days = {DayCount{{2024, 11, 24}, 1}};
  std::string h = render_day_page(room_named("Lobby"), p);
  EXPECT_EQ(h.find("rel=\"prev\""), std::string::npos);
  EXPECT_EQ(h.find("rel=\"next\""), std::string::npos);
  EXPECT_EQ(h.find("<a href=\"http://host/lobby/a/2024/10\""), std::string::npos);
  EXPECT_EQ(h.find("\" class=\"next-month\""), std::string::npos) << "no next-month link";
  EXPECT_NE(h.find("<span class=\"prev-month\"></span>"), std::string::npos);
  EXPECT_NE(h.find("1 post on 1 day."), std::string::npos);
}

TEST(DayPage, EmptyDayHasNavigationAndIsNotIndexed) {
  DayPage p;
  p.date = Date{2024, 11, 25};
  p.previous = Date{2024, 11, 24};
  p.month.year = 2024;
  p.month.month = 11;
  p.month.days = {DayCount{{2024, 11, 24}, 3}};
  std::string h = render_day_page(room_named("Lobby"), p);
  EXPECT_NE(h.find("No posts on this day."), std::string::npos);
  EXPECT_NE(h.find("rel=\"prev\""), std::string::npos);
  EXPECT_NE(h.find("<meta name=\"robots\" content=\"noindex\">"), std::string::npos);
  EXPECT_NE(h.find("<td class=\"current\" aria-current=\"date\"><span class=\"day-number\">25</span>"),
            std::string::npos);
}

TEST(DayPage, HostileRoomNameNickAndTextAreEscaped) {
  DayPage p;
  p.date = Date{2024, 11, 24};
  p.posts = {make_post("<script>alert(1)</script>", kNov24, 5, "<img src=x onerror=alert(2)> & \"q\"")};
  p.month.year = 2024;
  p.month.month = 11;
  std::string h = render_day_page(room_named("<b>Evil</b> \"room\""), p);
  EXPECT_EQ(h.find("<script>alert"), std::string::npos);
  EXPECT_EQ(h.find("<img src=x"), std::string::npos);
  EXPECT_EQ(h.find("<b>Evil"), std::string::npos);
  EXPECT_NE(h.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(h.find("&lt;img src=x onerror=alert(2)&gt; &amp; &quot;q&quot;"), std::string::npos);
  EXPECT_NE(h.find("<title>&lt;b&gt;Evil&lt;/b&gt; &quot;room&quot; &gt; Archives"), std::string::npos);
  expect_csp_clean(h);
}

// A day longer than kArchivePagePosts is shown a page at a time; the pages
// link to each other and say where each starts, for permalinks.
TEST(DayPage, ALongDayIsShownInBoundedPagesThatLinkToEachOther) {
  const size_t n = kArchivePagePosts * 2 + 500;
  std::vector<Post> posts;
  for (size_t i = 0; i < n; ++i)
    posts.push_back(make_post("n", kNov24 + static_cast<int64_t>(i) * 30, 5, "post " + std::to_string(i)));
  DayPage p;
  p.date = Date{2024, 11, 24};
  p.next = Date{2024, 11, 25};
  p.month.year = 2024;
  p.month.month = 11;
  select_day_page(p, posts, 2);
  ASSERT_EQ(p.page, 2u);
  ASSERT_EQ(p.posts.size(), kArchivePagePosts);
  EXPECT_EQ(p.posts.front().text, "post " + std::to_string(kArchivePagePosts));
  EXPECT_EQ(p.total_posts, n);
  ASSERT_EQ(p.page_starts.size(), 3u);
  EXPECT_EQ(p.page_starts[2].first, posts[2 * kArchivePagePosts].sec);

  ArchiveRoom room = room_named("Lobby");
  room.script_url = kUrl + "chaton.abc.js";
  std::string h = render_day_page(room, p);
  EXPECT_EQ(count(h, "id=\"entry-"), kArchivePagePosts) << "only this page's posts";
  EXPECT_NE(h.find("<title>Lobby &gt; Archives &gt; 2024/11/24 (page 2 of 3)</title>"), std::string::npos);
  EXPECT_NE(h.find("data-page=\"2\""), std::string::npos);
  std::string starts = entry_id(posts[0].sec, 5) + " " + entry_id(posts[kArchivePagePosts].sec, 5) + " " +
                       entry_id(posts[2 * kArchivePagePosts].sec, 5);
  EXPECT_NE(h.find("data-entry-pages=\"" + starts + "\""), std::string::npos);
  EXPECT_NE(h.find("<script src=\"http://host/lobby/chaton.abc.js\""), std::string::npos);
  EXPECT_NE(h.find("href=\"http://host/lobby/a/2024/11/24\">00:00:00</a>"), std::string::npos);
  EXPECT_NE(h.find("href=\"http://host/lobby/a/2024/11/24?page=3\">"), std::string::npos);
  EXPECT_NE(h.find("<link rel=\"canonical\" href=\"http://host/lobby/a/2024/11/24?page=2\">"),
            std::string::npos);
  EXPECT_NE(h.find(std::to_string(n) + " posts on 2024/11/24 (1000 posts on this page)"), std::string::npos);
  expect_csp_clean(h);

  DayPage last;
  select_day_page(last, posts, 99);  // past the end: the last page
  EXPECT_EQ(last.page, 3u);
  EXPECT_EQ(last.posts.size(), 500u);
  EXPECT_EQ(last.posts.back().text, "post " + std::to_string(n - 1));

  DayPage short_day;
  select_day_page(short_day, std::vector<Post>(posts.begin(), posts.begin() + 10), 1);
  EXPECT_EQ(short_day.posts.size(), 10u);
  std::string one = render_day_page(room, short_day);
  EXPECT_EQ(one.find("data-entry-pages"), std::string::npos) << "a short day is one page, as before";
  // Every day page loads the script (it shows the times in the reader's zone).
  EXPECT_NE(one.find("<script src=\"http://host/lobby/chaton.abc.js\""), std::string::npos);
}

TEST(DayPage, SaysItsDaysAreUtcByTheHeadingAndLoadsTheScript) {
  DayPage p;
  p.date = Date{2024, 11, 24};
  p.posts = {make_post("shiro", kNov24 + 3600, 5, "hello")};
  ArchiveRoom room = room_named("Lobby");
  room.script_url = kUrl + "chaton.abc.js";
  std::string h = render_day_page(room, p);
  size_t note = h.find("Days are in UTC");
  ASSERT_NE(note, std::string::npos);
  EXPECT_LT(h.find("<h1"), note);
  EXPECT_LT(note, h.find("class=\"view day-posts\""));
  EXPECT_NE(h.find("<script src=\"http://host/lobby/chaton.abc.js\" defer>"), std::string::npos);
  EXPECT_NE(h.find("<time datetime=\"2024-11-24T01:00:00Z\">2024/11/24 01:00:00 UTC</time>"),
            std::string::npos);
  expect_csp_clean(h);
  // An empty day needs no script.
  DayPage empty;
  empty.date = Date{2024, 11, 25};
  EXPECT_EQ(render_day_page(room, empty).find("<script"), std::string::npos);
}

TEST(DayPage, PagesOfLongPostsAreBoundedInBytesToo) {
  std::vector<Post> posts;
  for (int i = 0; i < 10; ++i)
    posts.push_back(
        make_post("n", kNov24 + i, 5, std::string(kArchivePageBytes / 3, 'x') + std::to_string(i)));
  DayPage p;
  select_day_page(p, posts, 1);
  EXPECT_EQ(p.posts.size(), 3u);
  EXPECT_EQ(p.page_starts.size(), 4u);  // 3 + 3 + 3 + 1
  select_day_page(p, posts, 4);
  ASSERT_EQ(p.posts.size(), 1u);
  EXPECT_EQ(p.posts[0].sec, kNov24 + 9);
}

TEST(MonthPage, CalendarStartsOnTheRightWeekday) {
  MonthNav m;
  m.year = 2024;
  m.month = 11;  // 2024/11/01 is a Friday: four empty cells first (weeks start on Monday)
  m.days = {DayCount{{2024, 11, 1}, 4}};
  std::string h = render_month_page(room_named("Lobby"), m);
  EXPECT_NE(h.find("<tbody><tr><td></td><td></td><td></td><td></td><td class=\"has-posts\">"),
            std::string::npos);
  EXPECT_NE(h.find("<span class=\"day-number\">30</span></td><td></td></tr></tbody>"), std::string::npos);
  EXPECT_NE(h.find("<title>Lobby &gt; Archives &gt; November 2024</title>"), std::string::npos);
  EXPECT_NE(h.find("4 posts on 1 day."), std::string::npos);
  expect_csp_clean(h);
}

TEST(MonthPage, MonthWithoutPosts) {
  MonthNav m;
  m.year = 2023;
  m.month = 2;
  std::string h = render_month_page(room_named("Lobby"), m);
  EXPECT_NE(h.find("No posts this month."), std::string::npos);
  EXPECT_EQ(count(h, "class=\"has-posts"), 0u);
  EXPECT_EQ(count(h, "<span class=\"day-number\">"), 28u);
}

TEST(MonthsIndex, NewestFirstByYearWithCounts) {
  std::vector<MonthSummary> months = {{2024, 10, 5, 1}, {2024, 11, 12, 3}, {2025, 1, 1, 1}};
  std::string h = render_months_index(room_named("Lobby"), months);
  size_t y2025 = h.find("<h2>2025</h2>"), y2024 = h.find("<h2>2024</h2>");
  ASSERT_NE(y2025, std::string::npos);
  ASSERT_NE(y2024, std::string::npos);
  EXPECT_LT(y2025, y2024);
  EXPECT_LT(h.find(">November</a>"), h.find(">October</a>"));
  EXPECT_NE(
      h.find("<a href=\"http://host/lobby/a/2024/11\">November</a> <span class=\"count\">12 posts on 3 days"),
      std::string::npos);
  EXPECT_NE(h.find("1 post on 1 day"), std::string::npos);
  EXPECT_NE(render_months_index(room_named("Lobby"), {}).find("Nothing archived yet."), std::string::npos);
}

TEST(NotFound, FriendlyAndEscaped) {
  std::string h = render_archive_not_found(room_named("Lobby"), "<x>/13/99");
  EXPECT_NE(h.find("&lt;x&gt;/13/99"), std::string::npos);
  EXPECT_NE(h.find("a/YYYY/MM/DD"), std::string::npos);
  EXPECT_NE(h.find("Back to the chat room"), std::string::npos);
  EXPECT_NE(h.find("noindex"), std::string::npos);
}

// ---- search page

TEST(SearchPage, HitsHighlightedEscapedAndPaged) {
  PageRoom s;
  s.name = "Lobby";
  s.url = kUrl;
  s.render.room_url = kUrl;
  auto q = search::parse_query("hello");
  search::Results r;
  r.page = 2;
  r.has_more = true;
  r.hits.push_back({Date{2024, 11, 24}, make_post("<i>nick</i>", kNov24 + 60, 5, "Hello <there>")});
  r.hits.push_back({Date{2024, 11, 24}, make_post("b", kNov24 + 30, 5, "hello again")});
  r.hits.push_back({Date{2024, 11, 20}, make_post("c", kNov24 - 4 * kDay, 5, "HELLO")});
  std::string h = render_search_page(s, "hello & \"bye\"", q, r);
  EXPECT_NE(h.find("<mark>Hello</mark> &lt;there&gt;"), std::string::npos);
  EXPECT_NE(h.find("&lt;i&gt;nick&lt;/i&gt;"), std::string::npos);
  EXPECT_NE(h.find("value=\"hello &amp; &quot;bye&quot;\""), std::string::npos);
  // Day headings once per day, linking to the archive.
  EXPECT_EQ(count(h, "class=\"hit-day\""), 2u);
  EXPECT_NE(h.find("<a href=\"http://host/lobby/a/2024/11/20\">2024/11/20</a>"), std::string::npos);
  // Permalinks of the hits.
  EXPECT_NE(h.find("href=\"http://host/lobby/a/2024/11/24#entry-"), std::string::npos);
  // Pager: page 2, both ways, the query URL-encoded.
  EXPECT_NE(h.find("Posts 21&ndash;23"), std::string::npos);
  EXPECT_NE(h.find("href=\"http://host/lobby/search?q=hello%20%26%20%22bye%22\" rel=\"prev\""),
            std::string::npos);
  EXPECT_NE(h.find("href=\"http://host/lobby/search?q=hello%20%26%20%22bye%22&amp;page=3\" rel=\"next\""),
            std::string::npos);
  EXPECT_NE(h.find("noindex"), std::string::npos);
  expect_csp_clean(h);
}

TEST(SearchPage, LoadsTheScriptForLocalTimes) {
  PageRoom s;
  s.name = "Lobby";
  s.url = kUrl;
  s.render.room_url = kUrl;
  s.script_url = kUrl + "chaton.abc.js";
  search::Results r;
  r.hits.push_back({Date{2024, 11, 24}, make_post("b", kNov24 + 30, 5, "hello again")});
  std::string h = render_search_page(s, "hello", search::parse_query("hello"), r);
  EXPECT_NE(h.find("<script src=\"http://host/lobby/chaton.abc.js\" defer>"), std::string::npos);
  EXPECT_NE(h.find("<time datetime=\"2024-11-24T00:00:30Z\">"), std::string::npos);
  expect_csp_clean(h);
}

TEST(SearchPage, FormOnlyAndNoResults) {
  PageRoom s;
  s.name = "Lobby";
  s.url = kUrl;
  std::string form = render_search_page(s, "", search::parse_query(""), {});
  EXPECT_NE(form.find("<input type=\"search\" id=\"q\" name=\"q\" value=\"\""), std::string::npos);
  EXPECT_EQ(form.find("search-summary"), std::string::npos);
  std::string none = render_search_page(s, "zzz", search::parse_query("zzz"), {});
  EXPECT_NE(none.find("No posts match <q>zzz</q>."), std::string::npos);
  EXPECT_EQ(none.find("class=\"pager\""), std::string::npos);
}

TEST(SearchPage, ResultsOfASearchOutOfTimeSayTheyArePartial) {
  PageRoom s;
  s.name = "Lobby";
  s.url = kUrl;
  auto q = search::parse_query("hello");
  search::Results r;
  r.hits.push_back({Date{2024, 11, 24}, make_post("a", kNov24 + 60, 5, "hello")});
  EXPECT_EQ(render_search_page(s, "hello", q, r).find("partial"), std::string::npos);
  r.partial = true;
  std::string h = render_search_page(s, "hello", q, r);
  EXPECT_NE(h.find("<p class=\"search-partial\" role=\"status\">The search took too long and was stopped: "
                   "these results are partial"),
            std::string::npos);
  EXPECT_NE(h.find("<mark>hello</mark>"), std::string::npos) << "what was found is shown";
}

TEST(UrlEncode, EncodesEverythingButUnreserved) {
  EXPECT_EQ(url_encode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
}

// ---- badge

TEST(Badge, TimeAgoAndChatters) {
  EXPECT_EQ(time_ago(0, 1000), "no known updates");
  EXPECT_EQ(time_ago(1000, 1000), "0 seconds ago");
  EXPECT_EQ(time_ago(1000, 1001), "1 second ago");
  EXPECT_EQ(time_ago(1000, 1059), "59 seconds ago");
  EXPECT_EQ(time_ago(1000, 1060), "1 minute ago");
  EXPECT_EQ(time_ago(1000, 1000 + 7200), "2 hours ago");
  EXPECT_EQ(time_ago(1000, 1000 + 86400), "1 day ago");
  EXPECT_EQ(time_ago(1000, 1000 + 15 * 86400), "2 weeks ago");
  EXPECT_EQ(time_ago(2000, 1000), "0 seconds ago");  // clock skew
  EXPECT_EQ(chatters_text(0), "No chatters");
  EXPECT_EQ(chatters_text(1), "1 chatter");
  EXPECT_EQ(chatters_text(5), "5 chatters");
}

TEST(Badge, JsStringLiteralEscapesEverythingDangerous) {
  EXPECT_EQ(js_string_literal("plain"), "\"plain\"");
  EXPECT_EQ(js_string_literal("a\"b'c\\d"), "\"a\\\"b\\'c\\\\d\"");
  EXPECT_EQ(js_string_literal("</script><!--"), "\"\\x3c\\x2fscript\\x3e\\x3c!--\"");
  EXPECT_EQ(js_string_literal("x\ny\r\t\x01"), "\"x\\ny\\r\\t\\x01\"");
  EXPECT_EQ(js_string_literal("\xE2\x80\xA8\xE2\x80\xA9"), "\"\\u2028\\u2029\"");
  EXPECT_EQ(js_string_literal("日本"), "\"日本\"");
}

BadgeInfo hostile_badge() {
  BadgeInfo b;
  b.name = "</script><script>alert(1)</script>\"'&";
  b.room_url = "http://host/lobby/";
  b.icon_url = "http://icons/x.png\" onerror=\"alert(2)";
  b.chatters = 3;
  b.last_post = 1000;
  b.now = 1000 + 300;
  return b;
}

TEST(Badge, ScriptWritesEscapedMarkup) {
  std::string js = badge_script(hostile_badge());
  EXPECT_NE(js.find("document.write(\""), std::string::npos);
  // Nothing in the script can end a <script> element or break out of the string.
  EXPECT_EQ(js.find('<'), std::string::npos);
  EXPECT_EQ(js.find('>'), std::string::npos);
  EXPECT_EQ(js.find("\");\n"), js.rfind("\");\n"));
  std::string markup = badge_markup(hostile_badge());
  EXPECT_NE(markup.find("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"),
            std::string::npos);
  EXPECT_NE(markup.find("src=\"http://icons/x.png&quot; onerror=&quot;alert(2)\""), std::string::npos);
  EXPECT_NE(markup.find("5 minutes ago"), std::string::npos);
  EXPECT_NE(markup.find("3 chatters"), std::string::npos);
  EXPECT_NE(markup.find("href=\"http://host/lobby/\""), std::string::npos);
}

TEST(Badge, MarkupHasTheOriginalStructureClassesAndTooltip) {
  BadgeInfo b;
  b.name = "Lobby";
  b.room_url = "http://host/lobby/";
  b.icon_url = "http://host/icon.png";
  b.chatters = 1;
  b.last_post = 1000;
  b.now = 1000 + 120;
  EXPECT_EQ(
      badge_markup(b),
      "<span class=\"chaton-badge\"><a href=\"http://host/lobby/\"><img alt=\"[icon]\" "
      "src=\"http://host/icon.png\" title=\"Start chatting in Lobby\" width=\"32\" height=\"32\"></a>"
      "<span class=\"chaton-room-name\"><a href=\"http://host/lobby/\" title=\"Start chatting in Lobby\">"
      "Lobby</a></span><span class=\"chaton-last-update\">2 minutes ago</span>"
      "<span class=\"chaton-chatters\">1 chatter</span></span>");
  b.icon_url.clear();
  EXPECT_EQ(badge_markup(b).find("<img"), std::string::npos);
  EXPECT_NE(badge_markup(b).find("<span class=\"chaton-badge\"><span class=\"chaton-room-name\">"),
            std::string::npos);
  EXPECT_NE(badge_markup(hostile_badge()).find("title=\"Start chatting in &lt;/script&gt;"),
            std::string::npos);
  // The script writes the default look before the markup, both escaped.
  std::string js = badge_script(b);
  EXPECT_NE(js.find("\\x3cstyle type=\\\"text\\x2fcss\\\"\\x3e.chaton-badge{"), std::string::npos) << js;
  EXPECT_LT(js.find("\\x3cstyle"), js.find("chaton-room-name"));
}

TEST(Badge, SvgIsEscapedXml) {
  BadgeInfo b = hostile_badge();
  b.name += std::string("\x01\x02");
  std::string svg = badge_svg(b);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
  EXPECT_NE(svg.find("&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(svg.find("3 chatters \xC2\xB7 5 minutes ago"), std::string::npos);
  EXPECT_NE(svg.find("<title>"), std::string::npos);
  BadgeInfo quiet;
  quiet.name = "Lobby";
  EXPECT_NE(badge_svg(quiet).find("No chatters \xC2\xB7 no known updates"), std::string::npos);
}

// ---- room page, index, assets

TEST(RoomPage, IsCspCleanAndLinksEverything) {
  Assets a = make_assets(300);
  PageRoom room;
  room.name = "The <Lobby>";
  room.url = kUrl;
  room.render.room_url = kUrl;
  std::string h = render_room_page(room, a, "/");
  expect_csp_clean(h);
  EXPECT_NE(h.find("<script src=\"http://host/lobby/" + a.js_name + "\" defer></script>"), std::string::npos);
  EXPECT_NE(h.find("<title>Chaton The &lt;Lobby&gt;</title>"), std::string::npos);
  for (const char* sub : {"a/yesterday", "search", "var/index.rdf", "badge.html"})
    EXPECT_NE(h.find(std::string("href=\"http://host/lobby/") + sub + "\""), std::string::npos) << sub;
  EXPECT_NE(h.find("type=\"application/rss+xml\""), std::string::npos);
  EXPECT_NE(h.find("role=\"log\""), std::string::npos);
  // The message box is a region of its own, not the page's footer (contentinfo).
  EXPECT_NE(h.find("<section class=\"composer\" aria-label=\"Post a message\">"), std::string::npos);
  EXPECT_EQ(h.find("<footer"), std::string::npos);
  EXPECT_NE(h.find("<label for=\"nick\">Nickname</label>"), std::string::npos);
  EXPECT_NE(h.find("Remember me"), std::string::npos);
  EXPECT_NE(h.find("&#39;Return&#39; key to post"), std::string::npos);
  // The mention notification control: hidden until the script shows it
  // (never asked on load), a checkbox with a label.
  EXPECT_TRUE(std::regex_search(h, std::regex("<label class=\"check\" id=\"notify-control\" hidden>"
                                              "<input type=\"checkbox\" id=\"notify-mentions\"[^>]*> "
                                              "Notify me of mentions</label>")))
      << h;
  EXPECT_NE(a.css.find("max-width: min(100%, 300px); max-height: 300px;"), std::string::npos);
  EXPECT_TRUE(std::regex_match(a.js_name, std::regex("chaton\\.[0-9a-f]{12}\\.js")));
  // The stylesheet by its content hash: another limit, another name.
  EXPECT_TRUE(std::regex_match(a.css_name, std::regex("chaton\\.[0-9a-f]{12}\\.css")));
  EXPECT_NE(h.find("<link rel=\"stylesheet\" href=\"http://host/lobby/" + a.css_name + "\">"),
            std::string::npos);
  EXPECT_EQ(a.css_name, stylesheet_name(300));
  EXPECT_NE(a.css_name, make_assets(301).css_name);
  // Compressed once, here.
  ASSERT_TRUE(a.js_gzip && a.css_gzip);
  EXPECT_LT(a.css_gzip->size(), a.css.size());
}

TEST(RoomPage, APrivateRoomLinksItsPasswordPageForTheSignedInUser) {
  Assets a = make_assets(300);
  PageRoom room;
  room.name = "Secret";
  room.url = kUrl;
  room.render.room_url = kUrl;
  // A public room has no users: no link.
  EXPECT_EQ(render_room_page(room, a, "/").find("passwd"), std::string::npos);
  std::string h = render_room_page(room, a, "/", "<al & ice>");
  expect_csp_clean(h);
  // In the room's links, named by what it does, with who is signed in.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(h, m, std::regex("<nav class=\"room-links\"[^>]*>(.*?)</nav>")));
  std::string nav = m[1];
  EXPECT_NE(nav.find("<a href=\"http://host/lobby/passwd\" class=\"account-link\">Change password"
                     "<span class=\"visually-hidden\"> (signed in as &lt;al &amp; ice&gt;)</span></a>"),
            std::string::npos)
      << nav;
  EXPECT_EQ(h.find("<al & ice>"), std::string::npos);
}

TEST(PasswdPage, StyledLikeTheOtherPagesWithLabelledFields) {
  PageRoom room;
  room.name = "Secret <room>";
  room.url = kUrl;
  room.render.room_url = kUrl;
  room.render.img_size_limit = 300;
  PasswdForm form{"<alice>", {}, false, 8, 128};
  std::string h = render_passwd_page(room, form);
  expect_csp_clean(h);
  // The same hashed stylesheet as the room page, the same header and footer.
  EXPECT_NE(h.find("<link rel=\"stylesheet\" href=\"http://host/lobby/" + make_assets(300).css_name + "\">"),
            std::string::npos);
  EXPECT_NE(h.find("<header class=\"page-header\"><h1 class=\"crumbs\"><a href=\"http://host/lobby/\">"
                   "Secret &lt;room&gt;</a>"),
            std::string::npos);
  EXPECT_NE(h.find("<main>"), std::string::npos);
  EXPECT_NE(h.find("<footer class=\"page-footer\">"), std::string::npos);
  EXPECT_NE(h.find("Logged in as <strong>&lt;alice&gt;</strong>"), std::string::npos);
  // Each field has its label; the rule for a new password describes both new fields.
  for (const char* id : {"old", "new", "again"}) {
    EXPECT_NE(h.find(std::string("<label for=\"") + id + "\">"), std::string::npos) << id;
    EXPECT_NE(h.find(std::string("<input type=\"password\" id=\"") + id + "\" name=\"" + id + "\""),
              std::string::npos)
        << id;
  }
  EXPECT_EQ(count(h, "aria-describedby=\"passwd-rule\""), 2u);
  EXPECT_NE(h.find("<p class=\"hint\" id=\"passwd-rule\">At least 8 characters."), std::string::npos);
  EXPECT_EQ(h.find("role=\"alert\""), std::string::npos);
}

TEST(PasswdPage, SaysClearlyThatThePasswordWasNotChangedAndWhy) {
  PageRoom room;
  room.name = "Secret";
  room.url = kUrl;
  room.render.room_url = kUrl;
  PasswdForm refused{"alice", "the two new passwords differ", false, 8, 128};
  std::string h = render_passwd_page(room, refused);
  EXPECT_NE(h.find("<p class=\"form-error\" id=\"passwd-error\" role=\"alert\">"
                   "<strong>Your password was not changed:</strong> the two new passwords differ.</p>"),
            std::string::npos)
      << h;
  // The form stays, and points at the message.
  EXPECT_NE(h.find("<form class=\"passwd-form\" aria-describedby=\"passwd-error\""), std::string::npos);

  PasswdForm done{"alice", "Your password was changed.", true, 8, 128};
  h = render_passwd_page(room, done);
  EXPECT_NE(h.find("<p class=\"form-done\" role=\"status\">Your password was changed.</p>"),
            std::string::npos)
      << h;
  EXPECT_EQ(h.find("<form"), std::string::npos);
  EXPECT_EQ(h.find("not changed"), std::string::npos);
  expect_csp_clean(h);
}

TEST(RoomIndex, DescriptionChattersAndLastPost) {
  RoomSummary r;
  r.name = "<Lobby>";
  r.url = kUrl;
  r.description = "Say <em>hello</em>.";
  r.status.num_chatters = 2;
  r.status.last_post = 1000;
  r.last = make_post("<b>n</b>", 1000, 5, "first line <x>\nsecond line");
  std::string h = render_room_index({r}, 1000 + 120);
  EXPECT_NE(h.find("&lt;Lobby&gt;"), std::string::npos);
  EXPECT_NE(h.find("Say <em>hello</em>."), std::string::npos);
  EXPECT_NE(h.find("2 chatters now"), std::string::npos);
  EXPECT_NE(h.find("last post 2 minutes ago"), std::string::npos);
  EXPECT_NE(h.find("&lt;b&gt;n&lt;/b&gt;</span> first line &lt;x&gt;\xE2\x80\xA6"), std::string::npos);
  expect_csp_clean(h);
  EXPECT_NE(render_room_index({}, 0).find("No rooms are configured."), std::string::npos);
}

TEST(RoomIndex, PrivateRoomShowsItsNameAndLinkOnly) {
  RoomSummary r;
  r.name = "Secret";
  r.url = kUrl;
  r.description = "Inner circle";
  r.status.num_chatters = 3;
  r.status.last_post = 1000;
  r.last = make_post("n", 1000, 5, "private words");
  r.is_private = true;
  std::string h = render_room_index({r}, 1000 + 120);
  EXPECT_NE(h.find(">Secret</a>"), std::string::npos);
  EXPECT_NE(h.find("A private room"), std::string::npos);
  for (const char* hidden :
       {"chatter", "last post", "ago", "private words", "Inner circle", "a/today", "search"})
    EXPECT_EQ(h.find(hidden), std::string::npos) << hidden;
  expect_csp_clean(h);
}

TEST(BadgePage, SnippetsEscaped) {
  PageRoom s;
  s.name = "A \"B\" <C>";
  s.url = kUrl;
  BadgeInfo info;
  info.name = s.name;
  info.room_url = kUrl;
  std::string h = render_badge_page(s, make_assets(400), info);
  EXPECT_NE(h.find("&lt;script src=&quot;http://host/lobby/b&quot;&gt;&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(h.find("badge.svg"), std::string::npos);
  EXPECT_NE(h.find("data-copy=\"snippet-md\""), std::string::npos);
  EXPECT_EQ(h.find("<C>"), std::string::npos);
  expect_csp_clean(h);
}

TEST(BadgePage, HasALiveRegionForWhatTheCopyButtonsDid) {
  PageRoom s;
  s.name = "Lobby";
  s.url = kUrl;
  BadgeInfo info;
  info.name = s.name;
  info.room_url = kUrl;
  std::string h = render_badge_page(s, make_assets(400), info);
  // In the page from the start (a live region added later is not heard), empty.
  EXPECT_NE(h.find("<p id=\"copy-status\" class=\"visually-hidden\" role=\"status\"></p>\n</main>"),
            std::string::npos);
}

}  // namespace
}  // namespace chaton::pages
