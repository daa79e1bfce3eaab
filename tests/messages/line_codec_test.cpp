// Tests for the original Chaton line format: encode_line, decode_line and
// parse_log, including the escapes older writers used and damaged logs.
#include "messages/line_codec.h"
#include "support/posts.h"

#include <gtest/gtest.h>

namespace chaton {
namespace {

using testing::make_post;

void expect_round_trip(const Post& p) {
  std::string line = encode_line(p);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  auto back = decode_line(line);
  ASSERT_TRUE(back.has_value()) << line;
  EXPECT_EQ(*back, p) << line;
}

TEST(EncodeLine, MatchesTheOriginalFormat) {
  EXPECT_EQ(encode_line(make_post("shiro", 1732450000, 123456, "hello\nworld")),
            R"(("shiro" (1732450000 123456) "hello\nworld" "127.0.0.1"))");
}

TEST(EncodeLine, OmitsAMissingAddress) {
  EXPECT_EQ(encode_line(make_post("a", 1, 0, "b", std::nullopt)), R"(("a" (1 0) "b"))");
}

TEST(EncodeLine, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(encode_line(make_post("q\"b\\", 5, 6, "t\tr\r\x01x\x7f", "::1")),
            R"(("q\"b\\" (5 6) "t\tr\r\x01;x\x7f;" "::1"))");
}

TEST(LineCodec, RoundTripsAwkwardText) {
  expect_round_trip(make_post("sh\"iro\\", 1732450000, 999999, "quote \" back \\ nl\n tab\t cr\r"));
  expect_round_trip(make_post("ctl", 0, 0,
                              std::string("a\x01"
                                          "b\x1f"
                                          "c\x7f"
                                          "d")));
  expect_round_trip(make_post("名前", 1732450001, 1, "日本語のテキスト 😀🎉", "2001:db8::1"));
  expect_round_trip(make_post("old", 1732450002, 0, "no address", std::nullopt));
  expect_round_trip(make_post("empty", 7, 8, "", ""));
  expect_round_trip(make_post("paren", 7, 8, "(\"not\" (a list))"));
}

// The example line of docs/STORAGE.md, "Line format".
TEST(DecodeLine, ReadsTheSpecExample) {
  auto p = decode_line(R"(("shiro" (1732450000 123456) "hello\nworld" "127.0.0.1"))");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nick, "shiro");
  EXPECT_EQ(p->sec, 1732450000);
  EXPECT_EQ(p->usec, 123456);
  EXPECT_EQ(p->text, "hello\nworld");
  EXPECT_EQ(p->ip, "127.0.0.1");
  EXPECT_EQ(p->seq, 0u);
}

TEST(DecodeLine, AcceptsALineWithoutAddress) {
  auto p = decode_line(R"(("old" (100 5) "text"))");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->ip.has_value());
  EXPECT_EQ(p->text, "text");
}

TEST(DecodeLine, ToleratesWhitespaceAndLineEnds) {
  const Post want = make_post("n", 1, 2, "t");
  EXPECT_EQ(decode_line("  ( \"n\"(1   2)\"t\"\t\"127.0.0.1\" )  "), want);
  EXPECT_EQ(decode_line("(\"n\" (1 2) \"t\" \"127.0.0.1\")\n"), want);
  EXPECT_EQ(decode_line("(\"n\" (1 2) \"t\" \"127.0.0.1\")\r\n"), want);
}

TEST(DecodeLine, HexEscapes) {
  // \xHH; for control characters, as written by us and by the original.
  EXPECT_EQ(decode_line(R"(("n" (1 2) "a\x01;b\x1b;c"))")->text,
            "a\x01"
            "b\x1b"
            "c");
  // Longer \xH...; forms are code points, written out as UTF-8.
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\x3042;\x1F600;\x7;"))")->text, "あ😀\x07");
  // The older \xHH without ';'.
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\x41BC"))")->text, "ABC");
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\xe9t\xe9"))")->text, "été");
  // Not a code point: one '?'.
  EXPECT_EQ(decode_line(R"(("n" (1 2) "a\x110000;b\xD800;c"))")->text, "a?b?c");
}

TEST(DecodeLine, OtherEscapesAsGaucheReadsThem) {
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\"\\\n\t\r\a\b\f"))")->text, "\"\\\n\t\r\a\b\f");
  EXPECT_EQ(decode_line(R"(("n" (1 2) "x\0y"))")->text, std::string("x\0y", 3));
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\u3042\u00e9"))")->text, "あé");
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\U0001F600!"))")->text, "😀!");
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\ud83d\ude00"))")->text, "😀");
  // Gauche has no \v: it is a 'v', as every other unknown escape is the
  // character itself.
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\v\q\("))")->text, "vq(");
  EXPECT_EQ(decode_line(R"(("n" (1 2) "\あ"))")->text, "あ");
  // A backslash before the end of the line's whitespace joins what follows.
  EXPECT_EQ(decode_line("(\"n\" (1 2) \"a\\  \r  b\")")->text, "ab");
}

// Where Gauche's reader stops with an error, the line is unreadable.
TEST(DecodeLine, EscapesGaucheRefusesMakeTheLineUnreadable) {
  const char* bad[] = {
      R"(("n" (1 2) "\x"))",  // \x without digits
      R"(("n" (1 2) "\xZ;"))",
      R"(("n" (1 2) "\u12"))",      // \u with fewer than four digits
      R"(("n" (1 2) "\U0001F6"))",  // \U with fewer than eight
      R"(("n" (1 2) "a\ b"))",      // a line continuation with no line end
  };
  for (const char* line : bad) EXPECT_FALSE(decode_line(line).has_value()) << line;
}

// The original tools read a line with (read-from-string line) and match
// (nick (secs usecs) text . rest): elements after the fourth, and text after
// the closing parenthesis, do not make a line unreadable.
TEST(DecodeLine, ReadsTheFirstDatumAsTheOriginalToolsDo) {
  auto extra = decode_line(R"(("n" (1 2) "t" "ip" "extra" (more 1) sym))");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->text, "t");
  EXPECT_EQ(extra->ip, "ip");
  auto trailing = decode_line(R"(("n" (1 2) "t" "ip") trailing "text)");
  ASSERT_TRUE(trailing);
  EXPECT_EQ(trailing->ip, "ip");
  auto two = decode_line(R"(("n" (1 2) "t")("m" (3 4) "u"))");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->nick, "n");
  auto symbol = decode_line(R"(("n" (1 2) "t" ip))");  // an address that is not a string
  ASSERT_TRUE(symbol);
  EXPECT_FALSE(symbol->ip.has_value());
}

// Lines are read with the one S-expression reader (docs/STORAGE.md
// "S-expressions"), as Gauche reads them: comments, a '+' sign, a dotted
// rest, brackets and quotes in the extra elements.
TEST(DecodeLine, ReadsByTheRulesOfTheOneReader) {
  auto plus = decode_line(R"(("n" (+1 +2) "t"))");
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->sec, 1);
  EXPECT_EQ(plus->usec, 2);
  auto commented = decode_line(R"(("n" #| c |# (1 2) "t" #;"not the address" "ip") ; note)");
  ASSERT_TRUE(commented);
  EXPECT_EQ(commented->ip, "ip");
  auto dotted = decode_line(R"(("n" (1 2) "t" . "ip"))");
  ASSERT_TRUE(dotted);
  EXPECT_FALSE(dotted->ip.has_value());
  auto extra = decode_line(R"(("n" (1 2) "t" "ip" [a (b)] 'c 99999999999999999999))");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->ip, "ip");
  const char* bad[] = {
      R"(("n" (1 2) "t" ; the ')' is in a comment)",
      R"(("n" (1 2) "t" "ip" [a)))",    // a ']' must close the '['
      R"(("n" (1 2) "t" "ip" . a b))",  // one datum after '.'
      R"(("n" (99999999999999999999 2) "t"))",
  };
  for (const char* line : bad) EXPECT_FALSE(decode_line(line).has_value()) << line;
}

TEST(DecodeLine, DeeplyNestedExtraElementsAreReadWithoutRecursion) {
  // A hand-edited or hostile line: a million '(' after the address.
  std::string open(1'000'000, '(');
  auto unclosed = decode_line(R"(("n" (1 2) "t" "ip" )" + open + ")");
  EXPECT_FALSE(unclosed);  // an unclosed list: unreadable, as Gauche finds it
  auto closed = decode_line(R"(("n" (1 2) "t" "ip" )" + open + std::string(1'000'000, ')') + ")");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->ip, "ip");
}

TEST(DecodeLine, RepairsInvalidUtf8) {
  auto p = decode_line("(\"n\xff\" (1 2) \"a\xc3\" \"ip\")");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nick, "n?");
  EXPECT_EQ(p->text, "a?");
}

TEST(DecodeLine, RejectsMalformedLines) {
  const char* bad[] = {
      "",
      "garbage",
      R"(("n" (1 2) "unterminated))",
      R"(("n" (1 2) "ends in backslash\)",
      R"(("n" (1 2) "t" "ip")",  // no closing paren
      R"(("n" (1 2)))",          // no text
      R"(("n" (1) "t"))",        // one number
      R"(("n" (1 2 3) "t"))",    // three numbers
      R"(("n" "t" (1 2)))",      // wrong order
      R"(("n" (-1 2) "t"))",
      R"(("n" (1 -1) "t"))",
      R"(("n" (1 1000000) "t"))",
      R"(("n" (1.5 2) "t"))",
      R"(("n" (x 2) "t"))",
      R"((n (1 2) "t"))",
      R"(["n" (1 2) "t"])",
      R"(("n" (1 2) "t" "ip" (unclosed))",
      R"(("n" (1 2) "t" "ip" "unclosed))",
  };
  for (const char* line : bad) EXPECT_FALSE(decode_line(line).has_value()) << line;
}

TEST(DecodeLine, AcceptsTheExtremesOfTheTime) {
  EXPECT_TRUE(decode_line(R"(("n" (0 0) "t"))"));
  EXPECT_TRUE(decode_line(R"(("n" (0 999999) "t"))"));
}

TEST(ParseLog, ReadsPostsInOrderAndReportsBadLines) {
  std::string content =
      "(\"a\" (1 0) \"one\" \"1.1.1.1\")\n"
      "\n"
      "garbage\n"
      "   \n"
      "(\"b\" (2 0) \"two\")\r\n"
      "(\"c\" (3 0) \"unterminated)\n"
      "(\"d\" (4 0) \"four\" \"::1\")\n";
  ParsedLog log = parse_log(content);
  ASSERT_EQ(log.posts.size(), 3u);
  EXPECT_EQ(log.posts[0].nick, "a");
  EXPECT_EQ(log.posts[1].nick, "b");
  EXPECT_FALSE(log.posts[1].ip.has_value());
  EXPECT_EQ(log.posts[2].nick, "d");
  ASSERT_EQ(log.bad.size(), 2u);
  EXPECT_EQ(log.bad[0].line_number, 3u);
  EXPECT_EQ(log.bad[1].line_number, 6u);
  EXPECT_FALSE(log.bad[0].reason.empty());
  EXPECT_FALSE(log.torn_tail);
}

TEST(ParseLog, EmptyContent) {
  ParsedLog log = parse_log("");
  EXPECT_TRUE(log.posts.empty());
  EXPECT_TRUE(log.bad.empty());
  EXPECT_FALSE(log.torn_tail);
}

TEST(ParseLog, TornTailThatDoesNotParseIsBad) {
  ParsedLog log = parse_log("(\"a\" (1 0) \"one\")\n(\"b\" (2 0) \"tw");
  EXPECT_TRUE(log.torn_tail);
  ASSERT_EQ(log.posts.size(), 1u);
  ASSERT_EQ(log.bad.size(), 1u);
  EXPECT_EQ(log.bad[0].line_number, 2u);
}

TEST(ParseLog, TornTailThatParsesIsKept) {
  ParsedLog log = parse_log("(\"a\" (1 0) \"one\")\n(\"b\" (2 0) \"two\")");
  EXPECT_TRUE(log.torn_tail);
  ASSERT_EQ(log.posts.size(), 2u);
  EXPECT_EQ(log.posts[1].text, "two");
  EXPECT_TRUE(log.bad.empty());
}

TEST(ParseLog, RoundTripsEncodedLines) {
  std::vector<Post> posts = {make_post("x", 1, 2, "multi\nline"),
                             make_post("y", 3, 4, "日本語", std::nullopt)};
  std::string content;
  for (const Post& p : posts) content += encode_line(p) + "\n";
  ParsedLog log = parse_log(content);
  EXPECT_EQ(log.posts, posts);
  EXPECT_TRUE(log.bad.empty());
  EXPECT_FALSE(log.torn_tail);
}

}  // namespace
}  // namespace chaton
