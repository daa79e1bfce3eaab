// Tests for normalize_submission: the rules a post must meet (docs/PROTOCOL.md,
// "Posting" and "Differences from the original").
#include "messages/post_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace chaton {
namespace {

Submission ok(std::string_view nick, std::string_view text, const PostLimits& limits = {}) {
  auto r = normalize_submission(nick, text, limits);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? r.value() : Submission{};
}

Status error(std::string_view nick, std::string_view text, const PostLimits& limits = {}) {
  auto r = normalize_submission(nick, text, limits);
  EXPECT_FALSE(r.is_ok());
  return r.status();
}

std::string repeat(std::string_view unit, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += unit;
  return s;
}

TEST(PostRules, PlainPostPassesUnchanged) {
  Submission s = ok("shiro", "hello world");
  EXPECT_EQ(s.nick, "shiro");
  EXPECT_EQ(s.text, "hello world");
}

TEST(PostRules, TrimsBothFields) {
  Submission s = ok("  shiro \t", "\n\n  hello\nworld  \r\n");
  EXPECT_EQ(s.nick, "shiro");
  EXPECT_EQ(s.text, "hello\nworld");
}

TEST(PostRules, EmptyNick) {
  for (std::string_view nick : {"", "   ", "\t\r\n", "\x01\x02"}) {
    Status st = error(nick, "text");
    EXPECT_EQ(st.code(), Errc::invalid);
    EXPECT_EQ(st.message(), "nickname is empty");
  }
}

TEST(PostRules, EmptyText) {
  for (std::string_view text : {"", "  \n \r\n\t", "\x7f\x1b"}) {
    Status st = error("nick", text);
    EXPECT_EQ(st.code(), Errc::invalid);
    EXPECT_EQ(st.message(), "text is empty");
  }
}

TEST(PostRules, RemovesControlCharactersButKeepsTabAndNewline) {
  using namespace std::string_literals;
  Submission s =
      ok("ni\x01"
         "ck\x7f"s,
         "a\0b\x1b[31mc\td\ne\x7f"s);
  EXPECT_EQ(s.nick, "nick");
  EXPECT_EQ(s.text, "ab[31mc\td\ne");
}

TEST(PostRules, RemovesC1Controls) {
  Submission s = ok("nick",
                    "a\xc2\x85"
                    "b\xc2\x9f"
                    "c\xc2\xa0"
                    "d");
  EXPECT_EQ(s.text,
            "abc\xc2\xa0"
            "d");  // U+00A0 is not a control character
}

TEST(PostRules, InvalidUtf8BecomesQuestionMark) {
  Submission s = ok("n\xff",
                    "a\xc3(b\xed\xa0\x80"
                    "c\xe3\x81");
  EXPECT_EQ(s.nick, "n?");
  EXPECT_EQ(s.text, "a?(b???c??");
}

TEST(PostRules, NormalisesLineEndsInText) { EXPECT_EQ(ok("n", "a\r\nb\rc\n\rd").text, "a\nb\nc\n\nd"); }

TEST(PostRules, NickWhitespaceBecomesSpaces) {
  EXPECT_EQ(ok("a\tb\r\nc", "t").nick, "a b c");  // a line end is one space, CR LF too
  EXPECT_EQ(ok("a\rb\n\nc", "t").nick, "a b  c");
  EXPECT_EQ(ok("\ta b\n", "t").nick, "a b");
}

TEST(PostRules, KeepsNonAsciiText) {
  Submission s = ok("名前", "日本語 😀");
  EXPECT_EQ(s.nick, "名前");
  EXPECT_EQ(s.text, "日本語 😀");
}

TEST(PostRules, TextLimitCountsCodePoints) {
  // Three-byte and four-byte characters: the limit is in characters, not bytes.
  EXPECT_EQ(ok("n", repeat("あ", kDefaultTextLimit)).text, repeat("あ", kDefaultTextLimit));
  EXPECT_TRUE(normalize_submission("n", repeat("😀", kDefaultTextLimit)).is_ok());
  Status st = error("n", repeat("あ", kDefaultTextLimit + 1));
  EXPECT_EQ(st.code(), Errc::too_large);
  EXPECT_EQ(st.message(), "text is longer than 2048 characters");
}

TEST(PostRules, TextLimitAppliesAfterTrimming) {
  EXPECT_TRUE(normalize_submission("n", "  " + repeat("x", kDefaultTextLimit) + "\n").is_ok());
}

TEST(PostRules, CustomTextLimit) {
  PostLimits limits;
  limits.text_limit = 5;
  EXPECT_EQ(ok("n", "abcde", limits).text, "abcde");
  Status st = error("n", "abcdef", limits);
  EXPECT_EQ(st.code(), Errc::too_large);
  EXPECT_EQ(st.message(), "text is longer than 5 characters");
}

TEST(PostRules, NickLimitCountsCodePoints) {
  EXPECT_EQ(ok(repeat("名", kDefaultNickLimit), "t").nick, repeat("名", kDefaultNickLimit));
  Status st = error(repeat("名", kDefaultNickLimit + 1), "t");
  EXPECT_EQ(st.code(), Errc::invalid);
  EXPECT_EQ(st.message(), "nickname is longer than 64 characters");

  PostLimits limits;
  limits.nick_limit = 3;
  EXPECT_EQ(ok("abc", "t", limits).nick, "abc");
  EXPECT_EQ(error("abcd", "t", limits).message(), "nickname is longer than 3 characters");
}

}  // namespace
}  // namespace chaton
