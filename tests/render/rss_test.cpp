// Tests for the RSS 2.0 feed (docs/PROTOCOL.md, "RSS"): the exact document for
// a small room, newest-first order, escaping, CDATA splitting, removal of
// characters XML 1.0 forbids, and a well-formedness check of every generated
// feed.

#include "render/rss.h"
#include "support/posts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaton {
namespace {

using testing::make_post;

constexpr int64_t kSec = 1732450000;  // Sun, 24 Nov 2024 12:06:40 +0000, 0x674316d0

RenderOptions options() {
  RenderOptions o;
  o.room_url = "http://host/lobby/";
  return o;
}

// A small XML checker: tags balanced and properly nested, one root element,
// CDATA sections closed, '&' only in entity references, no '<' or "]]>" in
// character data, and no character XML 1.0 forbids. Returns "" when the
// document passes, else what is wrong.
class XmlChecker {
 public:
  explicit XmlChecker(std::string_view doc) : doc_(doc) {}

  std::string check() {
    for (unsigned char c : doc_)
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return "forbidden control character";
    if (!doc_.starts_with("<?xml ")) return "no XML declaration";
    size_t decl_end = doc_.find("?>");
    if (decl_end == std::string_view::npos) return "unterminated declaration";
    pos_ = decl_end + 2;
    while (pos_ < doc_.size()) {
      std::string err = doc_[pos_] == '<' ? markup() : text();
      if (!err.empty()) return err;
    }
    if (!stack_.empty()) return "unclosed <" + stack_.back() + ">";
    if (roots_ != 1) return "expected one root element";
    return "";
  }

 private:
  std::string markup() {
    std::string_view rest = doc_.substr(pos_);
    if (rest.starts_with("<![CDATA[")) {
      if (stack_.empty()) return "CDATA outside the root";
      size_t end = rest.find("]]>");
      if (end == std::string_view::npos) return "unterminated CDATA";
      pos_ += end + 3;
      return "";
    }
    size_t gt = rest.find('>');
    if (gt == std::string_view::npos) return "unterminated tag";
    std::string_view tag = rest.substr(1, gt - 1);
    pos_ += gt + 1;
    if (tag.find('<') != std::string_view::npos) return "'<' inside a tag";
    if (tag.starts_with("/")) {
      std::string name(tag.substr(1));
      if (stack_.empty() || stack_.back() != name) return "mismatched </" + name + ">";
      stack_.pop_back();
      return "";
    }
    bool self_closing = tag.ends_with("/");
    std::string name(tag.substr(0, tag.find_first_of(" /")));
    if (name.empty()) return "empty tag name";
    if (stack_.empty() && ++roots_ > 1) return "second root element";
    if (!self_closing) stack_.push_back(name);
    return "";
  }

  std::string text() {
    size_t lt = doc_.find('<', pos_);
    std::string_view chars = doc_.substr(pos_, lt == std::string_view::npos ? lt : lt - pos_);
    pos_ = lt == std::string_view::npos ? doc_.size() : lt;
    if (chars.find("]]>") != std::string_view::npos) return "]]> in character data";
    if (stack_.empty() && chars.find_first_not_of(" \t\r\n") != std::string_view::npos)
      return "text outside the root";
    for (size_t amp = chars.find('&'); amp != std::string_view::npos; amp = chars.find('&', amp + 1)) {
      std::string_view ref = chars.substr(amp);
      bool ok = ref.starts_with("&amp;") || ref.starts_with("&lt;") || ref.starts_with("&gt;") ||
                ref.starts_with("&quot;") || ref.starts_with("&apos;") || ref.starts_with("&#");
      if (!ok) return "bare '&'";
    }
    return "";
  }

  std::string_view doc_;
  size_t pos_ = 0;
  std::vector<std::string> stack_;
  int roots_ = 0;
};

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) ++n;
  return n;
}

TEST(XmlChecker, CatchesMistakes) {
  EXPECT_EQ(XmlChecker("<?xml version=\"1.0\"?><a><b></a></b>").check(), "mismatched </a>");
  EXPECT_EQ(XmlChecker("<?xml version=\"1.0\"?><a>x & y</a>").check(), "bare '&'");
  EXPECT_EQ(XmlChecker("<?xml version=\"1.0\"?><a><![CDATA[x</a>").check(), "unterminated CDATA");
  EXPECT_EQ(XmlChecker("<?xml version=\"1.0\"?><a>\x01</a>").check(), "forbidden control character");
  EXPECT_EQ(XmlChecker("<?xml version=\"1.0\"?><a>x ]]> y</a>").check(), "]]> in character data");
  EXPECT_EQ(XmlChecker("<?xml version=\"1.0\"?><a><b/><![CDATA[<x>]]></a>").check(), "");
}

TEST(Rss, ExactDocumentForOnePost) {
  FeedInfo info{"Lobby", "Say <b>hello</b>."};
  std::vector<Post> posts{make_post("shiro", kSec, 5, "hi http://a/")};
  const std::string html =
      "<div class=\"entry-single\" id=\"entry-674316d0-05\"><span>shiro: hi "
      "<a href=\"http://a/\" rel=\"nofollow noopener\" target=\"_blank\" "
      "class=\"link-default\">http://a/</a></span></div>";
  const std::string escaped_html =
      "&lt;div class=&quot;entry-single&quot; id=&quot;entry-674316d0-05&quot;&gt;&lt;span&gt;shiro: hi "
      "&lt;a href=&quot;http://a/&quot; rel=&quot;nofollow noopener&quot; "
      "target=&quot;_blank&quot; class=&quot;link-default&quot;&gt;http://a/&lt;/a&gt;"
      "&lt;/span&gt;&lt;/div&gt;";
  const std::string link = "http://host/lobby/a/2024/11/24#entry-674316d0-05";
  EXPECT_EQ(render_rss(info, posts, options()),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n"
            "<channel>\n"
            "<title>Lobby</title>\n"
            "<link>http://host/lobby/</link>\n"
            "<description>Say &lt;b&gt;hello&lt;/b&gt;.</description>\n"
            "<lastBuildDate>Sun, 24 Nov 2024 12:06:40 +0000</lastBuildDate>\n"
            "<item>\n"
            "<title>shiro: hi http://a/</title>\n"
            "<link>" +
                link +
                "</link>\n"
                "<guid isPermaLink=\"true\">" +
                link +
                "</guid>\n"
                "<description>" +
                escaped_html +
                "</description>\n"
                "<content:encoded><![CDATA[" +
                html +
                "]]></content:encoded>\n"
                "<pubDate>Sun, 24 Nov 2024 12:06:40 +0000</pubDate>\n"
                "</item>\n"
                "</channel>\n"
                "</rss>\n");
}

TEST(Rss, EmptyRoomHasNoItemsAndNoBuildDate) {
  std::string out = render_rss(FeedInfo{"Lobby", ""}, {}, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  EXPECT_EQ(out.find("<item>"), std::string::npos);
  EXPECT_EQ(out.find("<lastBuildDate>"), std::string::npos);
  EXPECT_NE(out.find("<description></description>"), std::string::npos);
}

TEST(Rss, ItemsNewestFirst) {
  std::vector<Post> posts{make_post("a", kSec, 1, "first"), make_post("b", kSec + 60, 2, "second"),
                          make_post("c", kSec + 120, 3, "third")};
  std::string out = render_rss(FeedInfo{"Lobby", ""}, posts, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  EXPECT_EQ(count(out, "<item>"), 3u);
  size_t third = out.find("<title>c: third</title>");
  size_t second = out.find("<title>b: second</title>");
  size_t first = out.find("<title>a: first</title>");
  ASSERT_NE(third, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(first, std::string::npos);
  EXPECT_LT(third, second);
  EXPECT_LT(second, first);
  EXPECT_NE(out.find("<lastBuildDate>Sun, 24 Nov 2024 12:08:40 +0000</lastBuildDate>"), std::string::npos);
}

TEST(Rss, TitleIsFirstLineEscapedWithoutControls) {
  std::vector<Post> posts{make_post("<b>&nick", kSec, 1, "line\tone <i>\nline two")};
  std::string out = render_rss(FeedInfo{"Lobby", ""}, posts, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  EXPECT_NE(out.find("<title>&lt;b&gt;&amp;nick: lineone &lt;i&gt;</title>"), std::string::npos);
  EXPECT_EQ(out.find("line two</title>"), std::string::npos);
}

TEST(Rss, HostileInputStaysEscaped) {
  std::vector<Post> posts{
      make_post("<script>alert(1)</script>", kSec, 1, "<img src=x onerror=alert(1)> \"q\" 'a'")};
  std::string out = render_rss(FeedInfo{"<script>x</script>", "<p onclick=\"x\">&"}, posts, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  // Nothing that a feed reader would take as markup outside CDATA.
  EXPECT_EQ(out.find("<script"), std::string::npos);
  EXPECT_EQ(out.find("<img"), std::string::npos);
  EXPECT_NE(out.find("<title>&lt;script&gt;x&lt;/script&gt;</title>"), std::string::npos);
  EXPECT_NE(out.find("<description>&lt;p onclick=&quot;x&quot;&gt;&amp;</description>"), std::string::npos);
}

TEST(Rss, CdataNeverClosedEarly) {
  std::vector<Post> posts{make_post("n", kSec, 1, "a]]>b ]]]]> <![CDATA[ c")};
  std::string out = render_rss(FeedInfo{"Lobby", "]]>"}, posts, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  size_t open = out.find("<content:encoded><![CDATA[");
  ASSERT_NE(open, std::string::npos);
  size_t close = out.find("]]></content:encoded>");
  ASSERT_NE(close, std::string::npos);
  // Exactly one CDATA terminator between the opening and the closing tag.
  std::string section = out.substr(open, close - open + 3);
  EXPECT_EQ(count(section, "]]>"), 1u);
}

TEST(Rss, ForbiddenCharactersRemoved) {
  std::vector<Post> posts{make_post("n\x01ick", kSec, 1,
                                    "a\x02"
                                    "b\x1f"
                                    "c\tx\r\ny \xEF\xBF\xBE z \xff")};
  std::string out = render_rss(FeedInfo{"Lo\x0b"
                                        "bby",
                                        "d\x0c"
                                        "esc"},
                               posts, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  EXPECT_NE(out.find("<title>Lobby</title>"), std::string::npos);
  EXPECT_NE(out.find("<description>desc</description>"), std::string::npos);
  EXPECT_NE(out.find("<title>nick: abcx</title>"), std::string::npos);
  EXPECT_NE(
      out.find(
          "<![CDATA[<pre class=\"entry-multi\" id=\"entry-674316d0-01\">nick: abc\tx\r\ny  z ?</pre>]]>"),
      std::string::npos);
  EXPECT_EQ(out.find("\xEF\xBF\xBE"), std::string::npos);
}

TEST(Rss, ImagesAndEmbedsAreWellFormed) {
  std::vector<Post> posts{make_post("n", kSec, 1,
                                    "http://a/b.png?x=1&y=2 https://youtu.be/abcdef "
                                    "https://www.nicovideo.jp/watch/sm9")};
  std::string out = render_rss(FeedInfo{"Lobby", ""}, posts, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  EXPECT_NE(out.find("&lt;iframe class=&quot;youtube&quot;"), std::string::npos);
  EXPECT_NE(out.find("<![CDATA[<div class=\"entry-single\" id=\"entry-674316d0-01\"><span>n: "
                     "<a href=\"http://a/b.png?x=1&amp;y=2\""),
            std::string::npos);
}

TEST(Rss, DescriptionStartsWithTheNickAndKeepsLineBreaks) {
  std::vector<Post> posts{make_post("shiro", kSec, 7, "first line\n  indented <b>\nlast")};
  std::string out = render_rss(FeedInfo{"Lobby", ""}, posts, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  EXPECT_NE(out.find("<content:encoded><![CDATA[<pre class=\"entry-multi\" id=\"entry-674316d0-07\">"
                     "shiro: first line\n  indented &lt;b&gt;\nlast</pre>]]></content:encoded>"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("<description>&lt;pre class=&quot;entry-multi&quot; id=&quot;entry-674316d0-07&quot;&gt;"
                     "shiro: first line\n  indented &amp;lt;b&amp;gt;\nlast&lt;/pre&gt;</description>"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("<title>shiro: first line</title>"), std::string::npos);
}

TEST(Rss, InvisibleFormatCharactersLeaveTheTitle) {
  // U+200B zero width space, U+FEFF BOM, U+200D joiner, U+2066 isolate,
  // U+00AD soft hyphen, U+E000 private use (kept), an emoji and CJK (kept).
  std::vector<Post> posts{
      make_post("\xEF\xBB\xBFni\xE2\x80\x8B"
                "ck",
                kSec, 1,
                "a\xE2\x80\x8D"
                "b\xE2\x81\xA6"
                "c\xC2\xAD"
                "d \xEE\x80\x80 "
                "\xF0\x9F\x98\x80 \xE6\x97\xA5")};
  std::string out = render_rss(FeedInfo{"Lobby", ""}, posts, options());
  EXPECT_EQ(XmlChecker(out).check(), "");
  EXPECT_NE(out.find("<title>nick: abcd \xEE\x80\x80 \xF0\x9F\x98\x80 \xE6\x97\xA5</title>"),
            std::string::npos)
      << out;
  // The text itself is not changed.
  EXPECT_NE(out.find("a\xE2\x80\x8D"
                     "b\xE2\x81\xA6"
                     "c\xC2\xAD"
                     "d"),
            std::string::npos);
}

}  // namespace
}  // namespace chaton
