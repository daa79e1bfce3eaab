// Tests for the HTML renderer (docs/PROTOCOL.md, "Rendering"): entry ids,
// permalinks, the post structure and header grouping, escaping of hostile
// input, and the URL scanner's links, images and video embeds.

#include "render/html.h"
#include "support/posts.h"
#include "util/civil_time.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaton {
namespace {

using testing::make_post;

constexpr int64_t kSec = 1732450000;       // 2024/11/24 12:06:40 UTC, 0x674316d0
constexpr int64_t kMidnight = 1732406400;  // 2024/11/24 00:00:00 UTC, 0x67426c80
const std::string kRoomUrl = "http://host/lobby/";

RenderOptions options() {
  RenderOptions o;
  o.room_url = kRoomUrl;
  return o;
}

// "2024/11/24 12:06:40 UTC" -> "2024-11-24T12:06:40Z"
std::string iso(std::string stamp) {
  for (char& c : stamp)
    if (c == '/') c = '-';
  stamp[10] = 'T';
  return stamp.substr(0, 19) + "Z";
}

// Nick first, then the time (docs/PROTOCOL.md, "Rendering").
std::string header(const std::string& stamp, const std::string& nick) {
  return "<div class=\"entry-header\"><span class=\"chatter nick-c" + std::to_string(nick_colour(nick)) +
         "\">" + nick + "</span><span class=\"timestamp\"><time datetime=\"" + iso(stamp) + "\">" + stamp +
         "</time></span></div>";
}

// A permalink out of the tab order, named after the post it leads to.
std::string anchor(const std::string& id, const std::string& date, const std::string& nick = "shiro",
                   const std::string& stamp = "") {
  std::string when = stamp;
  if (when.empty()) {
    // The time from the id's hex seconds, as the header shows it.
    int64_t sec = std::stoll(id.substr(6, id.find('-', 6) - 6), nullptr, 16);
    when = format_timestamp(sec);
  }
  return "<a class=\"permalink-anchor\" id=\"anchor-" + id + "\" href=\"" + kRoomUrl + "a/" + date + "#" +
         id + "\" target=\"_parent\" tabindex=\"-1\" aria-label=\"Permalink to the post by " + nick + " at " +
         when + "\">#</a>";
}

std::string single(const std::string& id, const std::string& html) {
  return "<div class=\"entry-single\" id=\"" + id + "\"><span>" + html + "</span></div>";
}

std::string link(const std::string& url_html) {
  return "<a href=\"" + url_html + "\" rel=\"nofollow noopener\" target=\"_blank\" class=\"link-default\">" +
         url_html + "</a>";
}

// The image's alt text names the file (never the whole URL).
std::string image(const std::string& url_html, const std::string& alt_html) {
  return "<a href=\"" + url_html +
         "\" rel=\"nofollow noopener\" target=\"_blank\" class=\"link-image\"><img src=\"" + url_html +
         "\" alt=\"" + alt_html + "\" class=\"inline-image\" loading=\"lazy\"></a>";
}

std::string youtube(const std::string& id, int w = 425, int h = 344) {
  return "<iframe class=\"youtube\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
         "\" src=\"https://www.youtube-nocookie.com/embed/" + id +
         "\" title=\"YouTube video\" allow=\"accelerometer; encrypted-media; gyroscope; "
         "picture-in-picture\" allowfullscreen loading=\"lazy\"></iframe>";
}

std::string nicovideo(const std::string& id) {
  return "<iframe class=\"nicovideo\" width=\"312\" height=\"176\" "
         "src=\"https://embed.nicovideo.jp/watch/" +
         id + "\" title=\"niconico video\" loading=\"lazy\"></iframe>";
}

std::string render(const std::vector<Post>& posts, const Post* previous = nullptr) {
  return render_posts(posts, previous, options());
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) ++n;
  return n;
}

// ---- entry ids and permalinks ----

TEST(EntryId, HexWithTwoDigitUsec) {
  EXPECT_EQ(entry_id(kSec, 5), "entry-674316d0-05");
  EXPECT_EQ(entry_id(kSec, 255), "entry-674316d0-ff");
  EXPECT_EQ(entry_id(kSec, 0), "entry-674316d0-00");
  EXPECT_EQ(entry_id(kSec, 999999), "entry-674316d0-f423f");
  EXPECT_EQ(entry_id(0, 16), "entry-0-10");
}

TEST(Permalink, UsesUtcDateOfSecond) {
  EXPECT_EQ(permalink(kRoomUrl, kSec, 5), "http://host/lobby/a/2024/11/24#entry-674316d0-05");
}

TEST(Permalink, MidnightBoundary) {
  EXPECT_EQ(permalink(kRoomUrl, kMidnight, 0), "http://host/lobby/a/2024/11/24#entry-67426c80-00");
  EXPECT_EQ(permalink(kRoomUrl, kMidnight - 1, 999999),
            "http://host/lobby/a/2024/11/23#entry-67426c7f-f423f");
}

// ---- post structure ----

TEST(RenderPosts, SingleLine) {
  std::vector<Post> posts{make_post("shiro", kSec, 5, "hello")};
  EXPECT_EQ(render(posts), header("2024/11/24 12:06:40 UTC", "shiro") +
                               anchor("entry-674316d0-05", "2024/11/24") +
                               single("entry-674316d0-05", "hello"));
}

TEST(RenderPosts, MultiLine) {
  std::vector<Post> posts{make_post("shiro", kSec, 255, "hello\n<world>")};
  EXPECT_EQ(render(posts), header("2024/11/24 12:06:40 UTC", "shiro") +
                               anchor("entry-674316d0-ff", "2024/11/24") +
                               "<pre class=\"entry-multi\" id=\"entry-674316d0-ff\">hello\n"
                               "&lt;world&gt;</pre>");
}

TEST(RenderPosts, HeaderReadsNickThenMachineReadableTime) {
  std::vector<Post> posts{make_post("shiro", kMidnight - 1, 7, "late")};
  std::string out = render(posts);
  size_t nick = out.find("class=\"chatter");
  size_t time = out.find("<time datetime=\"2024-11-23T23:59:59Z\">2024/11/23 23:59:59 UTC</time>");
  size_t text = out.find("late");
  ASSERT_NE(nick, std::string::npos) << out;
  ASSERT_NE(time, std::string::npos) << out;
  EXPECT_LT(nick, time);
  EXPECT_LT(time, text);
}

TEST(RenderPosts, PermalinkIsNamedAndOutOfTheTabOrder) {
  std::vector<Post> posts{make_post("a\"<b", kSec, 1, "x"), make_post("a\"<b", kSec + 5, 2, "y")};
  std::string out = render(posts);
  // Every post (the grouped one too) has its permalink, each named by the
  // nick and its own time, none a tab stop.
  EXPECT_EQ(count(out, "tabindex=\"-1\""), 2u) << out;
  EXPECT_NE(out.find("aria-label=\"Permalink to the post by a&quot;&lt;b at 2024/11/24 12:06:40 UTC\""),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("aria-label=\"Permalink to the post by a&quot;&lt;b at 2024/11/24 12:06:45 UTC\""),
            std::string::npos)
      << out;
}

TEST(NickColour, StableInRangeAndSpread) {
  EXPECT_EQ(nick_colour("shiro"), nick_colour("shiro"));
  std::vector<bool> seen(kNickColours, false);
  for (int i = 0; i < 200; ++i) {
    int c = nick_colour("nick" + std::to_string(i));
    ASSERT_GE(c, 0);
    ASSERT_LT(c, kNickColours);
    seen[static_cast<size_t>(c)] = true;
  }
  for (int c = 0; c < kNickColours; ++c) EXPECT_TRUE(seen[static_cast<size_t>(c)]) << c;
  // The class is on the nickname in the header.
  std::string out = render({make_post("kuro", kSec, 1, "x")});
  EXPECT_NE(out.find("<span class=\"chatter nick-c" + std::to_string(nick_colour("kuro")) + "\">kuro</span>"),
            std::string::npos)
      << out;
}

TEST(RenderPosts, EmptySpan) { EXPECT_EQ(render({}), ""); }

TEST(RenderPosts, GroupsSameNickAndIpWithinWindow) {
  std::vector<Post> posts{make_post("shiro", kSec, 1, "a"), make_post("shiro", kSec + 239, 2, "b")};
  EXPECT_EQ(render(posts), header("2024/11/24 12:06:40 UTC", "shiro") +
                               anchor("entry-674316d0-01", "2024/11/24") + single("entry-674316d0-01", "a") +
                               anchor("entry-674317bf-02", "2024/11/24") + single("entry-674317bf-02", "b"));
}

TEST(RenderPosts, NoGroupingAtWindowBoundary) {
  std::vector<Post> posts{make_post("shiro", kSec, 1, "a"), make_post("shiro", kSec + 240, 2, "b")};
  std::string out = render(posts);
  EXPECT_EQ(count(out, "entry-header"), 2u);
  EXPECT_NE(out.find(header("2024/11/24 12:10:40 UTC", "shiro")), std::string::npos);
}

TEST(RenderPosts, NoGroupingForDifferentNick) {
  std::vector<Post> posts{make_post("shiro", kSec, 1, "a"), make_post("kuro", kSec + 1, 2, "b")};
  std::string out = render(posts);
  EXPECT_EQ(count(out, "entry-header"), 2u);
  EXPECT_NE(out.find(header("2024/11/24 12:06:41 UTC", "kuro")), std::string::npos);
}

TEST(RenderPosts, NoGroupingForDifferentIp) {
  std::vector<Post> posts{make_post("shiro", kSec, 1, "a"), make_post("shiro", kSec + 1, 2, "b", "10.0.0.1")};
  EXPECT_EQ(count(render(posts), "entry-header"), 2u);
  std::vector<Post> one_missing{make_post("shiro", kSec, 1, "a"),
                                make_post("shiro", kSec + 1, 2, "b", std::nullopt)};
  EXPECT_EQ(count(render(one_missing), "entry-header"), 2u);
}

TEST(RenderPosts, TwoMissingIpsCountAsSame) {
  std::vector<Post> posts{make_post("shiro", kSec, 1, "a", std::nullopt),
                          make_post("shiro", kSec + 1, 2, "b", std::nullopt)};
  EXPECT_EQ(count(render(posts), "entry-header"), 1u);
}

TEST(RenderPosts, GroupingUsesAbsoluteDifference) {
  std::vector<Post> posts{make_post("shiro", kSec, 1, "a"), make_post("shiro", kSec - 100, 2, "b")};
  EXPECT_EQ(count(render(posts), "entry-header"), 1u);
}

TEST(RenderPosts, PreviousArgumentSuppressesFirstHeader) {
  Post previous = make_post("shiro", kSec - 10, 0, "before");
  std::vector<Post> posts{make_post("shiro", kSec, 1, "a")};
  EXPECT_EQ(render(posts, &previous),
            anchor("entry-674316d0-01", "2024/11/24") + single("entry-674316d0-01", "a"));
}

TEST(RenderPosts, PreviousArgumentFromOtherChatterKeepsHeader) {
  Post previous = make_post("kuro", kSec - 10, 0, "before");
  std::vector<Post> posts{make_post("shiro", kSec, 1, "a")};
  EXPECT_EQ(count(render(posts, &previous), "entry-header"), 1u);
  Post old = make_post("shiro", kSec - 240, 0, "before");
  EXPECT_EQ(count(render(posts, &old), "entry-header"), 1u);
}

// ---- escaping ----

// The tags of the output: everything from a raw '<' to the next '>'. Escaped
// text has neither, so these are exactly the elements the renderer emitted.
std::vector<std::string> tags_of(const std::string& out) {
  std::vector<std::string> tags;
  for (size_t lt = out.find('<'); lt != std::string::npos; lt = out.find('<', lt + 1)) {
    size_t gt = out.find('>', lt);
    tags.push_back(out.substr(lt, gt == std::string::npos ? std::string::npos : gt - lt + 1));
  }
  return tags;
}

void expect_no_active_content(const std::string& out) {
  EXPECT_EQ(out.find("<script"), std::string::npos) << out;
  EXPECT_EQ(out.find("<img src=x"), std::string::npos) << out;
  for (const std::string& tag : tags_of(out)) {
    // No event handler attribute (" onerror=", " onclick=", ...) in any tag.
    EXPECT_EQ(tag.find(" on"), std::string::npos) << tag;
    EXPECT_EQ(tag.find("javascript:"), std::string::npos) << tag;
  }
}

TEST(Escaping, HostileNickAndText) {
  std::vector<Post> posts{
      make_post("<script>alert(1)</script>", kSec, 1, "<img src=x onerror=alert(1)>"),
      make_post("\"'&nick", kSec + 1, 2, "say \"hi\" & 'bye'"),
  };
  std::string out = render(posts);
  expect_no_active_content(out);
  EXPECT_NE(out.find("\">&lt;script&gt;alert(1)&lt;/script&gt;</span>"), std::string::npos);
  EXPECT_NE(out.find("<span>&lt;img src=x onerror=alert(1)&gt;</span>"), std::string::npos);
  EXPECT_NE(out.find("\">&quot;&#39;&amp;nick</span>"), std::string::npos);
  EXPECT_NE(out.find("<span>say &quot;hi&quot; &amp; &#39;bye&#39;</span>"), std::string::npos);
}

TEST(Escaping, HostileMultiLineText) {
  std::vector<Post> posts{make_post("x", kSec, 1, "<script>\nalert(1)</script>")};
  std::string out = render(posts);
  expect_no_active_content(out);
  EXPECT_NE(out.find(">&lt;script&gt;\nalert(1)&lt;/script&gt;</pre>"), std::string::npos);
}

TEST(Escaping, HostileRoomUrlIsEscaped) {
  RenderOptions o = options();
  o.room_url = "http://h/\"><script>/";
  std::vector<Post> posts{make_post("x", kSec, 1, "a")};
  std::string out = render_posts(posts, nullptr, o);
  EXPECT_EQ(out.find("<script"), std::string::npos);
  EXPECT_NE(out.find("href=\"http://h/&quot;&gt;&lt;script&gt;/a/2024/11/24#"), std::string::npos);
}

TEST(Escaping, UrlCannotBreakOutOfAttribute) {
  std::string out = render_text("http://x/\"onmouseover=alert(1) http://y/<script>", options());
  expect_no_active_content(out);
  EXPECT_EQ(out, link("http://x/") + "&quot;onmouseover=alert(1) " + link("http://y/") + "&lt;script&gt;");
}

TEST(Escaping, QuotesAndAmpersandInUrl) {
  std::string out = render_text("http://x/?a=1&b='2'", options());
  EXPECT_EQ(out, link("http://x/?a=1&amp;b=&#39;2") + "&#39;");
  // The trailing quote is punctuation and stays outside the link.
  EXPECT_EQ(render_text("'http://x/'", options()), "&#39;" + link("http://x/") + "&#39;");
}

// ---- links ----

TEST(RenderText, PlainTextIsEscapedOnly) {
  EXPECT_EQ(render_text("a < b && c > d", options()), "a &lt; b &amp;&amp; c &gt; d");
  EXPECT_EQ(render_text("", options()), "");
}

TEST(RenderText, HttpAndHttpsLinks) {
  EXPECT_EQ(render_text("see http://example.com/x and https://example.org", options()),
            "see " + link("http://example.com/x") + " and " + link("https://example.org"));
}

TEST(RenderText, SchemeIsCaseInsensitive) {
  EXPECT_EQ(render_text("HTTPS://Example.com/A", options()), link("HTTPS://Example.com/A"));
}

TEST(RenderText, LinkEndsAtWhitespaceQuoteAndAngleBrackets) {
  EXPECT_EQ(render_text("http://a/b\tc", options()), link("http://a/b") + "\tc");
  EXPECT_EQ(render_text("http://a/b\nc", options()), link("http://a/b") + "\nc");
  EXPECT_EQ(render_text("<http://a/b>", options()), "&lt;" + link("http://a/b") + "&gt;");
}

TEST(RenderText, TrailingPunctuationIsStripped) {
  EXPECT_EQ(render_text("go to http://a/b.", options()), "go to " + link("http://a/b") + ".");
  EXPECT_EQ(render_text("http://a/b?!", options()), link("http://a/b") + "?!");
  EXPECT_EQ(render_text("http://a/b,;:", options()), link("http://a/b") + ",;:");
  EXPECT_EQ(render_text("http://a/b.c", options()), link("http://a/b.c"));
}

TEST(RenderText, UnbalancedClosingParenIsStripped) {
  EXPECT_EQ(render_text("(see http://a/b)", options()), "(see " + link("http://a/b") + ")");
  EXPECT_EQ(render_text("(http://a/b).", options()), "(" + link("http://a/b") + ").");
  EXPECT_EQ(render_text("http://w/Foo_(bar)", options()), link("http://w/Foo_(bar)"));
  EXPECT_EQ(render_text("(http://w/Foo_(bar))", options()), "(" + link("http://w/Foo_(bar)") + ")");
}

TEST(RenderText, SchemeAloneIsNotLinked) {
  EXPECT_EQ(render_text("http:// and https://.", options()), "http:// and https://.");
}

TEST(RenderText, OtherSchemesAreNotLinked) {
  std::string out = render_text("javascript:alert(1) ftp://x/ data:text/html,hi", options());
  EXPECT_EQ(out, "javascript:alert(1) ftp://x/ data:text/html,hi");
  EXPECT_EQ(out.find("<a"), std::string::npos);
  expect_no_active_content(out);
}

TEST(RenderText, JavascriptInsideUrlIsOnlyText) {
  std::string out = render_text("http://x/javascript:alert(1)", options());
  EXPECT_EQ(out, link("http://x/javascript:alert(1)"));
}

TEST(RenderText, NonAsciiInUrl) {
  EXPECT_EQ(render_text("http://例え.jp/パス です", options()), link("http://例え.jp/パス") + " です");
}

// ---- images ----

TEST(RenderText, ImageLinks) {
  for (std::string url :
       {"http://a/b.jpg", "http://a/b.JPEG", "https://a/b.gif", "http://a/b.png", "http://a/b.webp"}) {
    EXPECT_EQ(render_text(url, options()), image(url, "Image: " + url.substr(url.rfind('/') + 1))) << url;
  }
}

TEST(RenderText, ImageExtensionBeforeQueryOrFragment) {
  EXPECT_EQ(render_text("http://a/b.png?size=2&x=1", options()),
            image("http://a/b.png?size=2&amp;x=1", "Image: b.png"));
  EXPECT_EQ(render_text("http://a/b.png#frag", options()), image("http://a/b.png#frag", "Image: b.png"));
  EXPECT_EQ(render_text("http://a/b?file=c.png", options()), link("http://a/b?file=c.png"));
  EXPECT_EQ(render_text("http://a.png", options()), link("http://a.png"));
}

TEST(RenderText, ImageAltNamesThePosterAndTheFileNotTheUrl) {
  EXPECT_EQ(
      render_text("see https://pics.example/2024/cat%20nap.png?s=1", options(), "shiro"),
      "see " + image("https://pics.example/2024/cat%20nap.png?s=1", "Image posted by shiro: cat%20nap.png"));
  // A hostile nickname stays text inside the attribute.
  std::string out = render_text("http://a/b.png", options(), "\"><script>");
  EXPECT_NE(out.find("alt=\"Image posted by &quot;&gt;&lt;script&gt;: b.png\""), std::string::npos) << out;
  expect_no_active_content(out);
}

TEST(RenderPosts, ImageAltNamesThePoster) {
  std::vector<Post> posts{make_post("kuro", kSec, 1, "http://a/dir/photo.jpg")};
  std::string out = render(posts);
  EXPECT_NE(out.find("alt=\"Image posted by kuro: photo.jpg\""), std::string::npos) << out;
  EXPECT_EQ(out.find("alt=\"http"), std::string::npos) << out;
}

TEST(RenderText, ImageHasNoInlineStyle) {
  std::string out = render_text("http://a/b.jpg", options());
  EXPECT_EQ(out.find("style"), std::string::npos);
}

// ---- video embeds ----

TEST(RenderText, YoutubeWatch) {
  const std::string url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ";
  EXPECT_EQ(render_text(url, options()), link(url) + youtube("dQw4w9WgXcQ"));
}

TEST(RenderText, YoutubeWatchHostsAndParameterOrder) {
  EXPECT_EQ(render_text("http://youtube.com/watch?v=abcdef", options()),
            link("http://youtube.com/watch?v=abcdef") + youtube("abcdef"));
  EXPECT_EQ(render_text("https://m.youtube.com/watch?feature=x&v=a_b-c1", options()),
            link("https://m.youtube.com/watch?feature=x&amp;v=a_b-c1") + youtube("a_b-c1"));
  EXPECT_EQ(render_text("https://WWW.YouTube.com/watch?v=abcdef&t=10", options()),
            link("https://WWW.YouTube.com/watch?v=abcdef&amp;t=10") + youtube("abcdef"));
}

TEST(RenderText, YoutuBeAndShorts) {
  EXPECT_EQ(render_text("https://youtu.be/dQw4w9WgXcQ?t=5", options()),
            link("https://youtu.be/dQw4w9WgXcQ?t=5") + youtube("dQw4w9WgXcQ"));
  EXPECT_EQ(render_text("https://www.youtube.com/shorts/abcdef123", options()),
            link("https://www.youtube.com/shorts/abcdef123") + youtube("abcdef123"));
}

TEST(RenderText, YoutubeConfiguredSize) {
  RenderOptions o = options();
  o.embed_youtube_width = 640;
  o.embed_youtube_height = 360;
  EXPECT_EQ(render_text("https://youtu.be/abcdef", o),
            link("https://youtu.be/abcdef") + youtube("abcdef", 640, 360));
}

TEST(RenderText, InvalidYoutubeIdsAreOnlyLinks) {
  for (const char* url :
       {"https://www.youtube.com/watch?v=abc", "https://www.youtube.com/watch",
        "https://www.youtube.com/watch?v=abc!def1", "https://www.youtube.com/watch?v=abcdefghijklmnopqrstu",
        "https://evil.example/watch?v=abcdef", "https://notyoutube.com/watch?v=abcdef", "https://youtu.be/",
        "https://www.youtube.com/shorts/"}) {
    std::string out = render_text(url, options());
    EXPECT_EQ(out.find("<iframe"), std::string::npos) << url;
    EXPECT_NE(out.find("class=\"link-default\""), std::string::npos) << url;
  }
}

TEST(RenderText, Nicovideo) {
  EXPECT_EQ(render_text("https://www.nicovideo.jp/watch/sm9", options()),
            link("https://www.nicovideo.jp/watch/sm9") + nicovideo("sm9"));
  EXPECT_EQ(render_text("http://nicovideo.jp/watch/sm12345?ref=x", options()),
            link("http://nicovideo.jp/watch/sm12345?ref=x") + nicovideo("sm12345"));
  std::string bad = render_text("https://www.nicovideo.jp/watch/smX1", options());
  EXPECT_EQ(bad, link("https://www.nicovideo.jp/watch/smX1"));
}

TEST(RenderText, SeveralUrlsInOneText) {
  EXPECT_EQ(render_text("http://a/1.png http://b/ https://youtu.be/abcdef", options()),
            image("http://a/1.png", "Image: 1.png") + " " + link("http://b/") + " " +
                link("https://youtu.be/abcdef") + youtube("abcdef"));
}

TEST(RenderText, LongInputStaysLinear) {
  std::string text, expected;
  for (int i = 0; i < 20000; ++i) text += "http://. ";
  expected = text;
  text += "http://a" + std::string(100000, ')');
  expected += link("http://a") + std::string(100000, ')');
  EXPECT_EQ(render_text(text, options()), expected);
}

}  // namespace
}  // namespace chaton
