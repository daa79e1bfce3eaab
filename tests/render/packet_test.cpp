// Tests for the comet reply packet (docs/PROTOCOL.md, "The comet long-poll"):
// exact bytes of the content fragment and the envelope in the json, sexpr and
// web formats, with and without posts, the refresh flag, and escaping of
// unicode and control characters.

#include "render/packet.h"
#include "support/posts.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <string>
#include <vector>

namespace chaton {
namespace {

using testing::make_post;

constexpr int64_t kSec = 1732450000;  // 2024/11/24 12:06:40 UTC, 0x674316d0

RenderOptions options() {
  RenderOptions o;
  o.room_url = "http://host/lobby/";
  return o;
}

PacketHeader header(bool refresh = false) {
  PacketHeader h;
  h.pos = 1234;
  h.nc = 3;
  h.ver = "0.1.0";
  h.cid = 5678;
  h.refresh = refresh;
  return h;
}

std::string content(PacketFormat fmt, const std::vector<Post>& posts, const Post* previous = nullptr) {
  return render_content(fmt, posts, previous, options());
}

const std::vector<Post> kTwoPosts{make_post("n", kSec, 2, "t"), make_post("m", kSec + 1, 4, "u")};

// ---- json ----

TEST(PacketJson, Content) {
  EXPECT_EQ(content(PacketFormat::json, kTwoPosts),
            "[[\"n\",[1732450000,2],\"t\"],[\"m\",[1732450001,4],\"u\"]]");
  EXPECT_EQ(content(PacketFormat::json, {}), "[]");
}

TEST(PacketJson, Wrap) {
  EXPECT_EQ(wrap_packet(PacketFormat::json, header(), content(PacketFormat::json, kTwoPosts)),
            "{\"pos\":1234,\"nc\":3,\"ver\":\"0.1.0\",\"cid\":5678,\"content\":"
            "[[\"n\",[1732450000,2],\"t\"],[\"m\",[1732450001,4],\"u\"]]}");
  EXPECT_EQ(wrap_packet(PacketFormat::json, header(), empty_content(PacketFormat::json)),
            "{\"pos\":1234,\"nc\":3,\"ver\":\"0.1.0\",\"cid\":5678,\"content\":[]}");
}

TEST(PacketJson, RefreshIgnored) {
  EXPECT_EQ(wrap_packet(PacketFormat::json, header(true), "[]"),
            "{\"pos\":1234,\"nc\":3,\"ver\":\"0.1.0\",\"cid\":5678,\"content\":[]}");
}

TEST(PacketJson, ExpiredCid) {
  PacketHeader h;
  h.ver = "0.1.0";
  h.cid = -1;
  EXPECT_EQ(wrap_packet(PacketFormat::json, h, "[]"),
            "{\"pos\":0,\"nc\":0,\"ver\":\"0.1.0\",\"cid\":-1,\"content\":[]}");
}

TEST(PacketJson, EscapesUnicodeAndControls) {
  std::vector<Post> posts{make_post("\"n\\", kSec, 0, "日本語 é\n\t\x01\x1f</script>")};
  std::string c = content(PacketFormat::json, posts);
  EXPECT_EQ(c, "[[\"\\\"n\\\\\",[1732450000,0],\"日本語 é\\n\\t\\u0001\\u001f</script>\"]]");
  // And it parses back to the same strings.
  boost::json::value v = boost::json::parse(c);
  EXPECT_EQ(v.at(0).at(0).as_string(), "\"n\\");
  EXPECT_EQ(v.at(0).at(2).as_string(), "日本語 é\n\t\x01\x1f</script>");
  EXPECT_EQ(v.at(0).at(1).at(0).as_int64(), kSec);
}

TEST(PacketJson, VersionIsEscaped) {
  PacketHeader h = header();
  h.ver = "1\"2";
  EXPECT_EQ(wrap_packet(PacketFormat::json, h, "[]"),
            "{\"pos\":1234,\"nc\":3,\"ver\":\"1\\\"2\",\"cid\":5678,\"content\":[]}");
}

// ---- sexpr ----

TEST(PacketSexpr, Content) {
  EXPECT_EQ(content(PacketFormat::sexpr, kTwoPosts),
            " (\"n\" (1732450000 2) \"t\") (\"m\" (1732450001 4) \"u\")");
  EXPECT_EQ(content(PacketFormat::sexpr, {}), "");
}

TEST(PacketSexpr, Wrap) {
  EXPECT_EQ(wrap_packet(PacketFormat::sexpr, header(), content(PacketFormat::sexpr, kTwoPosts)),
            "((pos . 1234) (nc . 3) (ver . \"0.1.0\") (cid . 5678) "
            "(content (\"n\" (1732450000 2) \"t\") (\"m\" (1732450001 4) \"u\")))");
}

TEST(PacketSexpr, WrapWithoutPosts) {
  EXPECT_EQ(wrap_packet(PacketFormat::sexpr, header(true), empty_content(PacketFormat::sexpr)),
            "((pos . 1234) (nc . 3) (ver . \"0.1.0\") (cid . 5678) (content))");
}

TEST(PacketSexpr, EscapesControlsKeepsUnicode) {
  std::vector<Post> posts{make_post("\"n\\", kSec, 7, "日本語\n\t\r\x01\x7f")};
  EXPECT_EQ(content(PacketFormat::sexpr, posts),
            " (\"\\\"n\\\\\" (1732450000 7) \"日本語\\n\\t\\r\\x01;\\x7f;\")");
}

TEST(PacketSexpr, VersionIsQuoted) {
  PacketHeader h = header();
  h.ver = "a\"b";
  h.cid = -1;
  EXPECT_EQ(wrap_packet(PacketFormat::sexpr, h, ""),
            "((pos . 1234) (nc . 3) (ver . \"a\\\"b\") (cid . -1) (content))");
}

// ---- web ----

TEST(PacketWeb, ContentIsJsonStringOfRenderedPosts) {
  std::vector<Post> posts{make_post("n<", kSec, 5, "a \"b\"")};
  std::string html = render_posts(posts, nullptr, options());
  std::string c = content(PacketFormat::web, posts);
  EXPECT_EQ(c, "\"<div class=\\\"entry-header\\\"><span class=\\\"chatter nick-c" +
                   std::to_string(nick_colour("n<")) +
                   "\\\">n&lt;</span><span class=\\\"timestamp\\\"><time "
                   "datetime=\\\"2024-11-24T12:06:40Z\\\">2024/11/24 12:06:40 UTC</time></span></div>"
                   "<a class=\\\"permalink-anchor\\\" id=\\\"anchor-entry-674316d0-05\\\" "
                   "href=\\\"http://host/lobby/a/2024/11/24#entry-674316d0-05\\\" target=\\\"_parent\\\" "
                   "tabindex=\\\"-1\\\" aria-label=\\\"Permalink to the post by n&lt; at 2024/11/24 12:06:40 "
                   "UTC\\\">#</a>"
                   "<div class=\\\"entry-single\\\" id=\\\"entry-674316d0-05\\\"><span>a &quot;b&quot;"
                   "</span></div>\"");
  EXPECT_EQ(boost::json::parse(c).as_string(), html);
}

TEST(PacketWeb, ContentUsesPreviousForGrouping) {
  Post previous = make_post("n", kSec - 1, 0, "x");
  std::vector<Post> posts{make_post("n", kSec, 5, "y")};
  std::string c = content(PacketFormat::web, posts, &previous);
  EXPECT_EQ(c.find("entry-header"), std::string::npos);
  EXPECT_EQ(boost::json::parse(c).as_string(), render_posts(posts, &previous, options()));
}

TEST(PacketWeb, MultiLineAndUnicode) {
  std::vector<Post> posts{make_post("ñ", kSec, 5, "日本\n語\x01")};
  std::string c = content(PacketFormat::web, posts);
  EXPECT_NE(c.find("日本\\n語\\u0001</pre>"), std::string::npos);
  EXPECT_EQ(boost::json::parse(c).as_string(), render_posts(posts, nullptr, options()));
}

TEST(PacketWeb, EmptyContent) {
  EXPECT_EQ(content(PacketFormat::web, {}), "\"\"");
  EXPECT_EQ(empty_content(PacketFormat::web), "\"\"");
}

TEST(PacketWeb, WrapWithAndWithoutRefresh) {
  EXPECT_EQ(wrap_packet(PacketFormat::web, header(), "\"<p>\""),
            "{\"pos\":1234,\"nc\":3,\"ver\":\"0.1.0\",\"cid\":5678,\"content\":\"<p>\"}");
  EXPECT_EQ(wrap_packet(PacketFormat::web, header(true), "\"\""),
            "{\"pos\":1234,\"nc\":3,\"ver\":\"0.1.0\",\"cid\":5678,\"content\":\"\","
            "\"refresh\":true}");
}

TEST(PacketWeb, WrappedPacketParses) {
  std::string packet = wrap_packet(PacketFormat::web, header(true), content(PacketFormat::web, kTwoPosts));
  boost::json::value v = boost::json::parse(packet);
  EXPECT_EQ(v.at("pos").as_int64(), 1234);
  EXPECT_EQ(v.at("refresh").as_bool(), true);
  EXPECT_EQ(v.at("content").as_string(), render_posts(kTwoPosts, nullptr, options()));
}

// ---- empty content and content types ----

TEST(Packet, EmptyContentMatchesRenderedEmpty) {
  for (PacketFormat f : {PacketFormat::json, PacketFormat::sexpr, PacketFormat::web})
    EXPECT_EQ(empty_content(f), content(f, {}));
  EXPECT_EQ(empty_content(PacketFormat::json), "[]");
  EXPECT_EQ(empty_content(PacketFormat::sexpr), "");
}

TEST(Packet, ContentTypes) {
  EXPECT_EQ(content_type(PacketFormat::json), "application/json; charset=utf-8");
  EXPECT_EQ(content_type(PacketFormat::web), "application/json; charset=utf-8");
  EXPECT_EQ(content_type(PacketFormat::sexpr), "application/x-sexpr; charset=utf-8");
}

}  // namespace
}  // namespace chaton

namespace chaton {
namespace {

// A transport writes the envelope's halves around the shared content
// (docs/PROTOCOL.md, "Push streams"): together they are exactly the packet.
TEST(PacketPieces, PrefixContentSuffixIsThePacketInEveryFormat) {
  for (PacketFormat fmt : {PacketFormat::json, PacketFormat::web, PacketFormat::sexpr}) {
    for (bool refresh : {false, true}) {
      for (const auto& posts : {std::vector<Post>{}, kTwoPosts}) {
        std::string body = content(fmt, posts);
        std::string pieces;
        append_packet_head(pieces, fmt, header(refresh));
        pieces += body;
        pieces += packet_tail(fmt, header(refresh));
        EXPECT_EQ(pieces, wrap_packet(fmt, header(refresh), body))
            << "format " << static_cast<int>(fmt) << " refresh " << refresh;
      }
    }
  }
  EXPECT_EQ(packet_tail(PacketFormat::web, header(true)), ",\"refresh\":true}");
  EXPECT_EQ(packet_tail(PacketFormat::json, header(true)), "}") << "refresh is for the web format only";
}

}  // namespace
}  // namespace chaton
