// The S-expression reader of the client library: the shapes a Chaton server
// writes (apilogin replies, comet s=1 packets), string escapes, and refusal
// of malformed or hostile input.
#include "client/sexpr_reader.h"

#include <gtest/gtest.h>

#include "client/client.h"
#include "util/sexpr.h"

namespace chaton::sexpr {
namespace {

TEST(SexprReader, ReadsAnApiloginReply) {
  auto d = read(
      "((post-uri . \"http://h/lobby/post\") (comet-uri . \"http://h/lobby/comet\")\n"
      " (icon-uri . \"\") (room-name . \"Lobby\") (cid . 123456) (pos . 42))");
  ASSERT_TRUE(d) << d.status().message();
  EXPECT_EQ(alist_string(*d, "post-uri"), "http://h/lobby/post");
  EXPECT_EQ(alist_string(*d, "icon-uri"), "");
  EXPECT_EQ(alist_string(*d, "room-name"), "Lobby");
  EXPECT_EQ(alist_integer(*d, "cid"), 123456);
  EXPECT_EQ(alist_integer(*d, "pos"), 42);
  EXPECT_FALSE(alist_ref(*d, "missing"));
  EXPECT_FALSE(alist_integer(*d, "room-name")) << "a string is not an integer";
}

TEST(SexprReader, ReadsACometPacketWithAndWithoutContent) {
  auto d = read(
      "((pos . 7) (nc . 3) (ver . \"0.1.0\") (cid . -1) "
      "(content (\"shiro\" (1732450000 123456) \"hello\\nworld\") (\"b\" (1 2) \"x\")))");
  ASSERT_TRUE(d) << d.status().message();
  EXPECT_EQ(alist_integer(*d, "cid"), -1);
  auto content = alist_ref(*d, "content");
  ASSERT_TRUE(content);
  ASSERT_EQ(content->items.size(), 2u);
  EXPECT_EQ(content->items[0].items[0].text, "shiro");
  EXPECT_EQ(content->items[0].items[1].items[1].integer, 123456);
  EXPECT_EQ(content->items[0].items[2].text, "hello\nworld");

  auto empty = read("((pos . 7) (nc . 1) (ver . \"v\") (cid . 9) (content))");
  ASSERT_TRUE(empty);
  auto none = alist_ref(*empty, "content");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->is_list());
  EXPECT_TRUE(none->items.empty());
}

TEST(SexprReader, ParsesPacketsIntoPosts) {
  auto p = parse_packet(
      "((pos . 12) (nc . 2) (ver . \"0.1.0\") (cid . 77) "
      "(content (\"a\" (10 20) \"one\") (\"b\" (11 21) \"two\" \"ignored ip\") (bad entry)))");
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_EQ(p->pos, 12u);
  EXPECT_EQ(p->nc, 2u);
  EXPECT_EQ(p->ver, "0.1.0");
  EXPECT_EQ(p->cid, 77);
  ASSERT_EQ(p->posts.size(), 2u);
  EXPECT_EQ(p->posts[1].nick, "b");
  EXPECT_EQ(p->posts[1].sec, 11);
  EXPECT_EQ(p->posts[1].usec, 21);
  EXPECT_EQ(p->posts[1].text, "two");
  EXPECT_FALSE(parse_packet("((nc . 2))")) << "pos and cid are required";
  EXPECT_FALSE(parse_packet("{\"pos\":1}"));
}

TEST(SexprReader, RoundTripsEveryStringTheServerWrites) {
  std::string tricky = "quote \" backslash \\ nl \n tab \t cr \r bell \x07 del \x7f "
                       "utf-8 \xe3\x81\x82 emoji \xf0\x9f\x98\x80";
  auto d = read(encode_sexpr_string(tricky));
  ASSERT_TRUE(d) << d.status().message();
  ASSERT_TRUE(d->is_string());
  EXPECT_EQ(d->text, tricky);
}

TEST(SexprReader, ReadsGaucheEscapes) {
  auto d = read(R"("\x41;\x3042;\u00e9\x7e\a\0")");
  ASSERT_TRUE(d) << d.status().message();
  EXPECT_EQ(d->text, std::string("A\xe3\x81\x82\xc3\xa9~\a") + std::string(1, '\0'));
}

TEST(SexprReader, ReadsAtomsAndComments) {
  auto d = read("; a comment\n (a -12 +3 - foo.bar (x . y)) ; trailing\n");
  ASSERT_TRUE(d) << d.status().message();
  ASSERT_EQ(d->items.size(), 6u);
  EXPECT_TRUE(d->items[0].is_symbol("a"));
  EXPECT_EQ(d->items[1].integer, -12);
  EXPECT_EQ(d->items[2].integer, 3);
  EXPECT_TRUE(d->items[3].is_symbol("-"));
  EXPECT_TRUE(d->items[4].is_symbol("foo.bar"));
  EXPECT_TRUE(d->items[5].is_dotted());
  EXPECT_TRUE(d->items[5].tail[0].is_symbol("y"));
}

TEST(SexprReader, RefusesMalformedInput) {
  for (const char* bad : {"", "(", ")", "(a . )", "(. a)", "(a . b c)", "\"open", "(a) b",
                          "\"\\x\"", "\"\\uZZZZ\"", "99999999999999999999", "\"\\x110000;\""}) {
    auto d = read(bad);
    EXPECT_FALSE(d) << "accepted: " << bad;
    if (!d) EXPECT_EQ(d.status().code(), Errc::invalid);
  }
}

TEST(SexprReader, BoundsNesting) {
  std::string deep(kMaxDepth + 1, '(');
  deep += std::string(kMaxDepth + 1, ')');
  EXPECT_FALSE(read(deep));
  std::string ok(kMaxDepth, '(');
  ok += std::string(kMaxDepth, ')');
  EXPECT_TRUE(read(ok));
  std::string hostile(1 << 20, '(');
  EXPECT_FALSE(read(hostile));
}

}  // namespace
}  // namespace chaton::sexpr
