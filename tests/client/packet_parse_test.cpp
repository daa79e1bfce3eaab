// parse_packet (client/client.h): a comet `s=1` reply, read with the one
// S-expression reader (util/sexpr.h, tested in tests/util/sexpr_test.cpp),
// turned into a Packet.
#include <gtest/gtest.h>

#include "client/client.h"

namespace chaton {
namespace {

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

// The reply is read by the rules of docs/STORAGE.md "S-expressions": \v is a
// 'v', a code point beyond Unicode is '?', invalid UTF-8 is repaired, VT is
// whitespace, and '[' ']' are a list.
TEST(SexprReader, ReadsPacketsByTheRulesOfStorageMd) {
  auto p = parse_packet("((pos . 1)\v(cid . 2) [content (\"a\\v\xff\" (1 2) \"\\x110000;\")] (ver . \"v\"))");
  ASSERT_TRUE(p) << p.status().message();
  ASSERT_EQ(p->posts.size(), 1u);
  EXPECT_EQ(p->posts[0].nick, "av?");
  EXPECT_EQ(p->posts[0].text, "?");
}

}  // namespace
}  // namespace chaton
