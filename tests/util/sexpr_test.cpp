// The one S-expression reader (util/sexpr.h): every rule of docs/STORAGE.md
// "S-expressions" and "Strings as read" as one table of input -> the datum
// read (written back canonically) or the error, then the association-list
// helpers, nesting bounds and the round trip of what the server writes.
#include "util/sexpr.h"

#include <gtest/gtest.h>

#include <string>

namespace chaton::sexpr {
namespace {

// A datum written canonically: strings as append_sexpr_string writes them,
// integers in decimal, a big integer as <big DIGITS>, symbols by name, one
// space between elements, 'x as (quote x).
std::string show(const Datum& d) {
  switch (d.kind) {
    case Datum::Kind::string:
      return encode_sexpr_string(d.text);
    case Datum::Kind::integer:
      return std::to_string(d.integer);
    case Datum::Kind::big_integer:
      return "<big " + d.text + ">";
    case Datum::Kind::symbol:
      return d.text;
    case Datum::Kind::list:
      break;
  }
  std::string out = "(";
  for (size_t i = 0; i < d.items.size(); ++i) out += (i ? " " : "") + show(d.items[i]);
  if (d.is_dotted()) out += " . " + show(d.tail[0]);
  return out + ")";
}

struct Row {
  const char* rule;   // the rule of docs/STORAGE.md the row checks
  std::string input;  // read with sexpr::read: exactly one datum
  std::string want;   // show() of the datum, or "error: " and part of the message
};

const Row kRules[] = {
    // Whitespace: space, tab, LF, CR, FF, VT; anywhere between tokens.
    {"whitespace", " \t\r\n\f\v42 \n", "42"},
    {"whitespace", "(a\vb\fc\rd)", "(a b c d)"},
    {"whitespace", "( a  b )", "(a b)"},
    // Comments.
    {"comment ;", "; c\n(a ; c\n b) ; end", "(a b)"},
    {"comment #| |#", "#| x #| nested |# y |# 1", "1"},
    {"comment #| |#", "(a #|\n|# b)", "(a b)"},
    {"comment #| |#", "#| open", "error: unterminated #| comment"},
    {"comment #| |#", "#| a #| b |# c", "error: unterminated #| comment"},
    {"comment #;", "(a #;(b c) d)", "(a d)"},
    {"comment #;", "(a #;#;b c d)", "(a d)"},
    {"comment #;", "(a #; ; line\n b c)", "(a c)"},
    {"comment #;", "(a #;)", "error: unexpected ')'"},
    {"comment #;", "#;a", "error: unexpected end of input"},
    {"comment only at a token's start", "a#|b", "a#|b"},
    {"comment only at a token's start", "(a;b\n)", "(a)"},
    // Strings as read: the escapes.
    {"string", R"("")", R"("")"},
    {"string", "\"raw\nnewline\ttab\"", R"("raw\nnewline\ttab")"},
    {"string \\\" \\\\", R"("\"\\")", R"("\"\\")"},
    {"string \\n \\t \\r", R"("\n\t\r")", R"("\n\t\r")"},
    {"string \\0 \\a \\b \\f", R"("\0\a\b\f")", R"("\x00;\x07;\x08;\x0c;")"},
    {"string \\ + other", R"("\v\q\(\ä")", "\"vq(ä\""},
    {"string \\xH;", R"("\x41;\x3042;\x1F600;\x7;\x00000041;")", "\"Aあ😀\\x07;A\""},
    {"string \\xH;", R"("\x41;\x3042;")", "\"Aあ\""},
    {"string \\xHH", R"("\x41BC\xe9t")", "\"ABCét\""},
    {"string \\xH; not a character", R"("a\x110000;b\xD800;c")", R"("a?b?c")"},
    {"string \\x error", R"("\x")", "error: a string escape Gauche cannot read"},
    {"string \\x error", R"("\xZ;")", "error: a string escape Gauche cannot read"},
    {"string \\x error", R"("\x4")", "error: a string escape Gauche cannot read"},
    {"string \\uHHHH", R"("\u00e9\u3042")", "\"éあ\""},
    {"string \\uHHHH pair", R"("\ud83d\ude00")", "\"😀\""},
    {"string \\uHHHH lone", R"("\ud83dx\ude00")", R"("?x?")"},
    {"string \\u error", R"("\u12")", "error: a string escape Gauche cannot read"},
    {"string \\u error", R"("\uZZZZ")", "error: a string escape Gauche cannot read"},
    {"string \\UHHHHHHHH", R"("\U0001F600!")", "\"😀!\""},
    {"string \\U error", R"("\U0001F6")", "error: a string escape Gauche cannot read"},
    {"string continuation", "\"a\\  \n  b\"", R"("ab")"},
    {"string continuation", "\"a\\\r\n\tb\"", R"("ab")"},
    {"string continuation", "\"a\\\rb\"", R"("ab")"},
    {"string continuation error", "\"a\\ b\"", "error: a string escape Gauche cannot read"},
    {"string UTF-8 repaired", "\"a\xff\xc3\"", R"("a??")"},
    {"string unterminated", "\"open", "error: unterminated string"},
    {"string unterminated", "\"ends in backslash\\", "error: unterminated string"},
    // Integers.
    {"integer", "-12", "-12"},
    {"integer", "+3", "3"},
    {"integer", "007", "7"},
    {"integer", "9223372036854775807", "9223372036854775807"},
    {"integer", "-9223372036854775808", "-9223372036854775808"},
    {"integer beyond 64 bits", "99999999999999999999", "<big 99999999999999999999>"},
    {"integer beyond 64 bits", "-9223372036854775809", "<big -9223372036854775809>"},
    // Symbols: any other atom.
    {"symbol", "foo.bar", "foo.bar"},
    {"symbol", "(- + #t #f :kw 1.5 1e3 -x ..)", "(- + #t #f :kw 1.5 1e3 -x ..)"},
    {"symbol", "(a\"b\"c)", "(a \"b\" c)"},
    {"symbol", "(a|b 'c)", "(a|b (quote c))"},
    // Lists.
    {"list", "()", "()"},
    {"list", "[a (b [c])]", "(a (b (c)))"},
    {"list", "(a . b)", "(a . b)"},
    {"list", "(a b . (c))", "(a b . (c))"},
    {"list", "(a .b)", "(a .b)"},
    {"list", "(((a) ((b))) ((c . d)) e)", "(((a) ((b))) ((c . d)) e)"},
    {"list", "(((a . b) c) . d)", "(((a . b) c) . d)"},
    {"list", "(a . b c)", "error: more than one datum after '.'"},
    {"list", "(((a . b c)))", "error: more than one datum after '.'"},
    {"list", "((([a))))", "error: ')' closes a list opened with '['"},
    {"list", "(. a)", "error: unexpected '.'"},
    {"list", "(a . )", "error: nothing after '.'"},
    {"list", ".", "error: unexpected '.'"},
    {"list", "(a ]", "error: ']' closes a list opened with '('"},
    {"list", "(", "error: unclosed '(' (the list starts here)"},
    {"list", "[a", "error: unclosed '[' (the list starts here)"},
    {"list", ")", "error: unexpected ')'"},
    {"quote", "'a", "(quote a)"},
    {"quote", "'(a 'b)", "(quote (a (quote b)))"},
    {"quote", "''''a", "(quote (quote (quote (quote a))))"},
    {"quote", "('''a . ''b)", "((quote (quote (quote a))) . (quote (quote b)))"},
    {"quote", "'", "error: nothing after a quote"},
    {"quote", "(a ')", "error: nothing after a quote"},
    // read(): exactly one datum.
    {"one datum", "", "error: unexpected end of input"},
    {"one datum", " ; only a comment\n", "error: unexpected end of input"},
    {"one datum", "(a) b", "error: unexpected text after the datum"},
    {"one datum", "(a) \"b", "error: unterminated string"},
};

TEST(Sexpr, ReadsByTheRulesOfStorageMd) {
  for (const Row& row : kRules) {
    auto d = read(row.input);
    std::string got = d ? show(*d) : "error: " + d.status().message();
    if (row.want.starts_with("error: ")) {
      EXPECT_FALSE(d) << row.rule << ": " << row.input << " -> " << got;
      if (!d) {
        EXPECT_EQ(d.status().code(), Errc::invalid);
        EXPECT_NE(got.find(row.want.substr(7)), std::string::npos)
            << row.rule << ": " << row.input << " -> " << got;
      }
    } else {
      EXPECT_EQ(got, row.want) << row.rule << ": " << row.input;
    }
    // Skipping a datum follows the same rules as building it.
    Reader r(row.input);
    bool skipped = r.skip() && (r.at_end() || r.fail("unexpected text after the datum", 0));
    EXPECT_EQ(skipped, d.is_ok()) << "skip: " << row.rule << ": " << row.input;
    if (!skipped && !d) {
      EXPECT_NE(d.status().message().find(r.error().message), std::string::npos)
          << "skip: " << row.rule << ": " << row.input << " -> " << r.error().message;
    }
  }
}

// The lines that a datum starts on, and that an error names (import-conf
// reports them): an unclosed list is reported where it starts.
TEST(Sexpr, CountsLines) {
  Reader r("; one\n(a\n  \"b\nc\" d)\n\n  (e\n");
  Datum first;
  ASSERT_TRUE(r.read(first));
  EXPECT_EQ(first.line, 2u);
  EXPECT_EQ(first.items[1].line, 3u);
  EXPECT_EQ(first.items[2].line, 4u);
  EXPECT_FALSE(r.at_end());
  Datum second;
  EXPECT_FALSE(r.read(second));
  EXPECT_EQ(r.error().line, 6u);
  EXPECT_EQ(r.error().message, "unclosed '(' (the list starts here)");
}

TEST(Sexpr, TokensAndSkipping) {
  Reader r("(\"n\" 12 (x . (y)) [z]) rest");
  EXPECT_EQ(r.next().kind, Token::Kind::open);
  Token s = r.next();
  EXPECT_EQ(s.kind, Token::Kind::string);
  EXPECT_EQ(s.text, "n");
  EXPECT_EQ(r.peek().kind, Token::Kind::integer);
  EXPECT_EQ(r.next().integer, 12);
  EXPECT_TRUE(r.skip());  // (x . (y))
  EXPECT_TRUE(r.skip());  // [z]
  EXPECT_EQ(r.next().kind, Token::Kind::close);
  Token rest = r.next();
  EXPECT_EQ(rest.kind, Token::Kind::symbol);
  EXPECT_EQ(rest.text, "rest");
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.next().kind, Token::Kind::end);
}

TEST(Sexpr, BoundsNestingWhenBuildingButNotWhenSkipping) {
  std::string deep(kMaxDepth + 1, '(');
  deep += std::string(kMaxDepth + 1, ')');
  EXPECT_FALSE(read(deep));
  std::string ok(kMaxDepth, '(');
  ok += std::string(kMaxDepth, ')');
  EXPECT_TRUE(read(ok));
  std::string hostile(1 << 20, '(');
  EXPECT_FALSE(read(hostile));
  std::string quotes(1 << 20, '\'');
  EXPECT_FALSE(read(quotes + "a"));
  std::string comments;
  for (int i = 0; i < 100000; ++i) comments += "#;";
  EXPECT_FALSE(read(comments + "a b"));
  std::string many;  // comments one after another cost no stack
  for (int i = 0; i < 100000; ++i) many += "#;a ";
  EXPECT_TRUE(read(many + "b"));

  constexpr size_t kDeep = 1'000'000;
  const std::string closed_text = std::string(kDeep, '(') + std::string(kDeep, ')');
  Reader closed(closed_text);
  EXPECT_TRUE(closed.skip());
  const std::string unclosed_text(kDeep, '[');
  Reader unclosed(unclosed_text);
  EXPECT_FALSE(unclosed.skip());
  EXPECT_EQ(unclosed.error().message, "unclosed '[' (the list starts here)");
}

TEST(Sexpr, ReadsAnApiloginReply) {
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

TEST(Sexpr, ReadsACometPacketWithAndWithoutContent) {
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

TEST(Sexpr, RoundTripsEveryStringTheServerWrites) {
  std::string tricky =
      "quote \" backslash \\ nl \n tab \t cr \r bell \x07 del \x7f "
      "utf-8 \xe3\x81\x82 emoji \xf0\x9f\x98\x80";
  tricky += std::string(1, '\0');
  auto d = read(encode_sexpr_string(tricky));
  ASSERT_TRUE(d) << d.status().message();
  ASSERT_TRUE(d->is_string());
  EXPECT_EQ(d->text, tricky);
}

}  // namespace
}  // namespace chaton::sexpr
