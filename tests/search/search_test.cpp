// Tests for room search: query parsing, case folding, matching, the
// highlighter over rendered HTML, and the newest-first paged scan over a
// fake day source (no sockets, no files).

#include "search/search.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>
#include <string>
#include <vector>

#include "render/html.h"
#include "support/memory_days.h"
#include "support/posts.h"
#include "util/log.h"

namespace chaton::search {
namespace {

using ::chaton::testing::MemoryDays;

using testing::make_post;

constexpr int64_t kDay = 86400;
constexpr int64_t kSec = 1732406400;  // 2024/11/24 00:00:00 UTC

TEST(ParseQuery, SplitsFoldsAndDeduplicates) {
  Query q = parse_query("  Hello   WORLD hello\tworld ");
  EXPECT_EQ(q.terms, (std::vector<std::string>{"hello", "world"}));
}

TEST(ParseQuery, EmptyAndBlankQueriesHaveNoTerms) {
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_TRUE(parse_query(" \t\n ").empty());
  EXPECT_TRUE(parse_query("\"\"").empty());
}

TEST(ParseQuery, QuotedPhraseIsOneTerm) {
  Query q = parse_query("gauche \"Hello World\" \"unclosed phrase");
  EXPECT_EQ(q.terms, (std::vector<std::string>{"gauche", "hello world", "unclosed phrase"}));
}

TEST(ParseQuery, IdeographicSpaceSeparates) {
  Query q = parse_query("ガウシュ\xE3\x80\x80チャット");
  EXPECT_EQ(q.terms, (std::vector<std::string>{"ガウシュ", "チャット"}));
}

TEST(ParseQuery, KeepsAtMostMaxTerms) {
  Query q = parse_query("a b c d e f g h i j k");
  EXPECT_EQ(q.terms.size(), kMaxTerms);
}

TEST(ParseQuery, LongQueryIsCutOnACharacterBoundary) {
  std::string s;
  while (s.size() < kMaxQueryBytes + 10) s += "é";  // two bytes each
  s = "x" + s;                                      // odd offset: the cut falls inside a character
  Query q = parse_query(s);
  ASSERT_EQ(q.terms.size(), 1u);
  EXPECT_LE(q.terms[0].size(), kMaxQueryBytes);
  EXPECT_EQ(q.terms[0].find('?'), std::string::npos);
}

TEST(ParseQuery, TermsAreFoldedTheSameWay) {
  Query q = parse_query("Știri TIẾNG\xE3\x80\x80VIỆT Straße ＡＢＣ");
  EXPECT_EQ(q.terms, (std::vector<std::string>{"știri", "tiếng", "việt", "strasse", "abc"}));
  EXPECT_EQ(parse_query("STRASSE straße").terms, (std::vector<std::string>{"strasse"}));
}

TEST(ParseQuery, ATermThatFoldsToNothingIsDropped) {
  EXPECT_TRUE(parse_query("\xC2\xAD").empty());  // a soft hyphen alone
  EXPECT_EQ(parse_query("a \xE2\x80\x8B").terms, (std::vector<std::string>{"a"}));  // zero width space
}

TEST(ParseQuery, InvalidUtf8IsRepaired) {
  Query q = parse_query("ab\xff");
  EXPECT_EQ(q.terms, (std::vector<std::string>{"ab?"}));
}

TEST(FoldCase, AsciiAndTheScriptsFoldedBefore) {
  EXPECT_EQ(fold_case("Hello, WORLD 123"), "hello, world 123");
  EXPECT_EQ(fold_case("ÀÉÎÕÜ×Ÿ"), "àéîõü×ÿ");  // the multiplication sign stays
  EXPECT_EQ(fold_case("ŁÓDŹ"), "łódź");
  EXPECT_EQ(fold_case("ΑΒΓΩ"), "αβγω");
  EXPECT_EQ(fold_case("ПРИВЕТ Ёж"), "привет ёж");
  EXPECT_EQ(fold_case("日本語"), "日本語");
}

// Unicode's full case folding with NFKC (NFKC_Casefold): the issue's
// three examples, letters beyond the old tables, special casing that
// changes the length, compatibility forms.
TEST(FoldCase, FullCaseFoldingWithCompatibilityNormalization) {
  EXPECT_EQ(fold_case("Știri"), "știri");                    // S with comma below, U+0218
  EXPECT_EQ(fold_case("ŞTIRI"), "ştiri");                    // S with cedilla, U+015E
  EXPECT_EQ(fold_case("TIẾNG VIỆT"), "tiếng việt");          // Latin Extended Additional
  EXPECT_EQ(fold_case("Straße"), "strasse");                 // ß is ss
  EXPECT_EQ(fold_case("STRASSE"), "strasse");
  EXPECT_EQ(fold_case("ẞ"), "ss");                           // capital sharp s
  EXPECT_EQ(fold_case("ＡＢＣ ｘｙｚ"), "abc xyz");          // fullwidth
  EXPECT_EQ(fold_case("ﬁle"), "file");                       // ligature
  EXPECT_EQ(fold_case("ΣΟΦΟΣ σοφος σοφός"), "σοφοσ σοφοσ σοφόσ");  // final sigma too
  EXPECT_EQ(fold_case("ǅ Ǆ ǆ"), "dž dž dž");                  // compatibility decomposition
  EXPECT_EQ(fold_case("ＡＢ\xE3\x80\x80Ｃ"), "ab c");         // the ideographic space is a space
}

TEST(FoldCase, DecomposedAndPrecomposedFoldAlike) {
  // E + circumflex + acute, E + dot below + circumflex (and the marks in the other order).
  const std::string decomposed = "TIE\xCC\x82\xCC\x81NG VIE\xCC\xA3\xCC\x82T";
  const std::string reordered = "tie\xCC\x82\xCC\x81ng vie\xCC\x82\xCC\xA3t";
  EXPECT_EQ(fold_case(decomposed), "tiếng việt");
  EXPECT_EQ(fold_case(reordered), "tiếng việt");
  EXPECT_EQ(fold_case("S\xCC\xA6tiri"), "știri");  // S + comma below
  EXPECT_EQ(fold_case("e\xCC\x81"), "é");
}

TEST(FoldCase, AccentsStaySignificant) {
  EXPECT_NE(fold_case("é"), fold_case("e"));
  EXPECT_NE(fold_case("ş"), fold_case("ș"));  // cedilla and comma below are other letters
  EXPECT_NE(fold_case("ë"), fold_case("e"));
}

TEST(FoldCase, AsciiFastPathIsWhatIcuGives) {
  // Every ASCII character alone (the fast path), and followed by a
  // non-ASCII character (through ICU), folds the same.
  for (int c = 1; c < 0x80; ++c) {
    std::string one(1, static_cast<char>(c));
    std::string lower = c >= 'A' && c <= 'Z' ? std::string(1, static_cast<char>(c - 'A' + 'a')) : one;
    EXPECT_EQ(fold_case(one), lower) << c;
    EXPECT_EQ(fold_case(one + "ж"), lower + "ж") << c;
    EXPECT_EQ(fold_case("ж" + one), "ж" + lower) << c;
  }
  // Longer runs, each character in every position of an 8-byte word.
  for (int c = 1; c < 0x80; ++c) {
    for (size_t at = 0; at < 16; ++at) {
      std::string s = "xXaZ@[`{AzMm0~\x7f\x01Q";
      std::string want = "xxaz@[`{azmm0~\x7f\x01q";
      s[at] = static_cast<char>(c);
      want[at] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
      ASSERT_EQ(fold_case(s), want) << c << " at " << at;
    }
  }
  for (size_t at = 0; at < 17; ++at) {  // one byte beyond ASCII anywhere: through ICU
    std::string s = "ABCDEFGHIJKLMNOPQ";
    s.insert(at, "Ж");
    std::string want = "abcdefghijklmnopq";
    want.insert(at, "ж");
    EXPECT_EQ(fold_case(s), want) << at;
  }
  // A long ASCII run, then a combining mark that composes with its last letter.
  EXPECT_EQ(fold_case("ABCDEFGHIJKLMNOPQRSTUVWXYZ caf" "E\xCC\x81"), "abcdefghijklmnopqrstuvwxyz café");
}

TEST(FoldCase, InvalidUtf8AndIgnorablesDoNotBreakIt) {
  EXPECT_EQ(fold_case("AB\xFF" "CD\xC3"), "ab\xFF" "cd\xC3");
  EXPECT_EQ(fold_case(std::string("A\0B", 3)), std::string("a\0b", 3));
  EXPECT_EQ(fold_case("ab\xC2\xAD" "cd"), "abcd");  // a soft hyphen is ignorable
  EXPECT_EQ(fold_case(""), "");
}

// ICU failing on a text is not expected, but its fallback (ASCII folded,
// the rest kept) changes what matches, so it is logged, once.
TEST(FoldCase, WhenIcuFailsItFoldsAsciiAndLogsOnce) {
  std::vector<std::string> lines;
  LogSink before = set_log_sink([&](std::string_view line) { lines.emplace_back(line); });
  fail_icu_folds_for_testing(true);
  std::string a = fold_case("Straße ÉCOLE"), b = fold_case("ΚΟΣΜΕ");
  FoldedText c("Ștefan");
  fail_icu_folds_for_testing(false);
  set_log_sink(std::move(before));
  EXPECT_EQ(a, "straße École");
  EXPECT_EQ(b, "ΚΟΣΜΕ");
  EXPECT_EQ(c.folded(), "Ștefan");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("error: search: ICU could not fold"), std::string::npos) << lines[0];
  EXPECT_EQ(fold_case("Straße"), "strasse");
}

TEST(FoldedText, TheFoldWithWhereEachByteCameFrom) {
  FoldedText ascii("Hello");
  EXPECT_EQ(ascii.folded(), "hello");
  EXPECT_EQ(ascii.source(1, 3), (std::pair<size_t, size_t>{1, 3}));

  FoldedText sharp("Straße");  // S t r a ß(2 bytes) e
  EXPECT_EQ(sharp.folded(), "strasse");
  EXPECT_EQ(sharp.source(4, 6), (std::pair<size_t, size_t>{4, 6}));  // "ss": the ß
  EXPECT_EQ(sharp.source(4, 5), (std::pair<size_t, size_t>{4, 6}));  // half of it: the whole ß
  EXPECT_EQ(sharp.source(5, 7), (std::pair<size_t, size_t>{4, 7}));
  EXPECT_EQ(sharp.source(0, 7), (std::pair<size_t, size_t>{0, 7}));

  const std::string decomposed = "VIE\xCC\xA3\xCC\x82T!";  // V I E+2 marks (4 bytes) T !
  FoldedText viet(decomposed);
  EXPECT_EQ(viet.folded(), "việt!");
  size_t e = viet.folded().find("ệ");
  EXPECT_EQ(viet.source(e, e + 3), (std::pair<size_t, size_t>{2, 7}));  // E and both marks
  EXPECT_EQ(viet.source(0, viet.folded().size() - 1), (std::pair<size_t, size_t>{0, 8}));

  FoldedText wide("xＡＢＣy");
  EXPECT_EQ(wide.folded(), "xabcy");
  EXPECT_EQ(wide.source(1, 4), (std::pair<size_t, size_t>{1, 10}));
  EXPECT_EQ(wide.source(2, 3), (std::pair<size_t, size_t>{4, 7}));

  FoldedText soft("ab\xC2\xAD" "cd");  // the soft hyphen folds to nothing
  EXPECT_EQ(soft.folded(), "abcd");
  EXPECT_EQ(soft.source(1, 3), (std::pair<size_t, size_t>{1, 5}));
}

TEST(FoldedText, FoldsAsFoldCaseDoes) {
  // Pieces put together at random: ASCII, precomposed and decomposed
  // letters, marks alone, ß, fullwidth, Greek, Cyrillic, Japanese.
  const std::vector<std::string> pieces = {"a", "Z", " ", "É", "e", "\xCC\x81", "\xCC\xA3", "\xCC\x82", "ß",
                                           "SS", "Ș", "Ｗ", "ﬁ", "Σ", "ς", "Ж", "日本", "ｶ", "\xEF\xBE\x9E",
                                           "\xC2\xAD", "\xFF", "Ǆ", "İ", "ŉ"};
  std::mt19937 rng(16);
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    int n = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int k = 0; k < n; ++k) s += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
    FoldedText f(s);
    ASSERT_EQ(f.folded(), fold_case(s)) << s;
    for (size_t a = 0; a < f.folded().size(); ++a) {
      auto [from, to] = f.source(a, a + 1);
      ASSERT_LT(from, to) << s;
      ASSERT_LE(to, s.size()) << s;
      if (a > 0) {
        ASSERT_LE(f.source(a - 1, a).first, from) << s;  // in order
      }
    }
  }
}

TEST(Matches, EveryTermInAnyOrderIgnoringCase) {
  Post p = make_post("shiro", kSec, 0, "Gauche 0.9.15 is RELEASED today");
  EXPECT_TRUE(matches(p, parse_query("released gauche")));
  EXPECT_TRUE(matches(p, parse_query("GAUCHE")));
  EXPECT_TRUE(matches(p, parse_query("leas")));  // substrings count
  EXPECT_FALSE(matches(p, parse_query("gauche scheme")));
  EXPECT_FALSE(matches(p, parse_query("")));
}

TEST(Matches, NicknameCounts) {
  Post p = make_post("Shiro", kSec, 0, "hello");
  EXPECT_TRUE(matches(p, parse_query("shiro hello")));
  EXPECT_FALSE(matches(p, parse_query("shiro bye")));
}

TEST(Matches, PhraseNeedsItsWordsTogether) {
  Post p = make_post("a", kSec, 0, "hello big world");
  EXPECT_FALSE(matches(p, parse_query("\"hello world\"")));
  EXPECT_TRUE(matches(p, parse_query("\"big world\"")));
}

TEST(Matches, NonAsciiText) {
  Post p = make_post("a", kSec, 0, "Привет, МИР — 日本語のテキスト");
  EXPECT_TRUE(matches(p, parse_query("мир привет")));
  EXPECT_TRUE(matches(p, parse_query("テキスト")));
}

// The issue's examples, both ways.
TEST(Matches, FullCaseFoldingBothWays) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"Știri", "știri"},
      {"TIẾNG VIỆT", "tiếng việt"},
      {"ß", "SS"},
      {"Straße", "STRASSE"},
      {"ＡＢＣ", "abc"},
      {"TIE\xCC\x82\xCC\x81NG VIE\xCC\xA3\xCC\x82T", "\"tiếng việt\""},  // decomposed text
      {"tiếng", "TIE\xCC\x82\xCC\x81NG"},                                 // decomposed query
  };
  for (const auto& [a, b] : pairs) {
    EXPECT_TRUE(matches(make_post("x", kSec, 0, a), parse_query(b))) << a << " / " << b;
    EXPECT_TRUE(matches(make_post("x", kSec, 0, b), parse_query(a))) << b << " / " << a;
  }
  EXPECT_TRUE(matches(make_post("x", kSec, 0, "Știri azi"), parse_query("ȘTIRI")));
  EXPECT_TRUE(matches(make_post("Ștefan", kSec, 0, "salut"), parse_query("ȘTEFAN")));
  EXPECT_FALSE(matches(make_post("x", kSec, 0, "café"), parse_query("cafe")));  // accents count
  EXPECT_FALSE(matches(make_post("x", kSec, 0, "cafe"), parse_query("café")));
}

TEST(Highlight, MarksTermsInTextNodes) {
  EXPECT_EQ(highlight("<span>Hello world</span>", parse_query("world")),
            "<span>Hello <mark>world</mark></span>");
  EXPECT_EQ(highlight("<span>ab AB ab</span>", parse_query("ab")),
            "<span><mark>ab</mark> <mark>AB</mark> <mark>ab</mark></span>");
}

TEST(Highlight, OverlappingTermsMerge) {
  EXPECT_EQ(highlight("abcdef", parse_query("abc cde")), "<mark>abcde</mark>f");
}

TEST(Highlight, NeverTouchesTagsOrAttributes) {
  std::string html = R"(<a href="http://world.example/" class="link-default">see world</a>)";
  EXPECT_EQ(highlight(html, parse_query("world")),
            R"(<a href="http://world.example/" class="link-default">see <mark>world</mark></a>)");
  EXPECT_EQ(highlight(R"(<img src="x.png" alt="mark">)", parse_query("mark")),
            R"(<img src="x.png" alt="mark">)");
}

TEST(Highlight, EntitiesAreCharactersAndAreNotSplit) {
  // "<b>" typed by a user is &lt;b&gt; in the HTML.
  EXPECT_EQ(highlight("say &lt;b&gt; now", parse_query("<b>")), "say <mark>&lt;b&gt;</mark> now");
  EXPECT_EQ(highlight("a &amp; b", parse_query("amp")), "a &amp; b");
  EXPECT_EQ(highlight("Tom &amp; Jerry", parse_query("&")), "Tom <mark>&amp;</mark> Jerry");
  EXPECT_EQ(highlight("it&#39;s", parse_query("it's")), "<mark>it&#39;s</mark>");
}

TEST(Highlight, SkipsTimestampAndPermalinkAnchor) {
  std::string html = R"(<div class="entry-header"><span class="timestamp">2024/11/24 00:00:00 UTC</span>)"
                     R"(<span class="chatter">utc</span></div><a class="permalink-anchor" href="#x">#</a>)"
                     R"(<div class="entry-single"><span>utc and # here</span></div>)";
  std::string out = highlight(html, parse_query("utc #"));
  EXPECT_NE(out.find(R"(<span class="timestamp">2024/11/24 00:00:00 UTC</span>)"), std::string::npos);
  EXPECT_NE(out.find(R"(<span class="chatter"><mark>utc</mark></span>)"), std::string::npos);
  EXPECT_NE(out.find(R"(href="#x">#</a>)"), std::string::npos);
  EXPECT_NE(out.find("<span><mark>utc</mark> and <mark>#</mark> here</span>"), std::string::npos);
}

TEST(Highlight, WorksOnTheRenderersOutput) {
  RenderOptions opts;
  opts.room_url = "http://host/lobby/";
  Post p = make_post("<Evil>", kSec, 0, "Look <script> at https://example.com/Script.png please");
  std::vector<Post> posts{p};
  std::string html = render_posts(posts, nullptr, opts);
  std::string out = highlight(html, parse_query("script"));
  EXPECT_NE(out.find("Look &lt;<mark>script</mark>&gt; at"), std::string::npos) << out;
  EXPECT_NE(out.find("https://example.com/Script.png\""), std::string::npos) << out;  // attribute untouched
  EXPECT_EQ(out.find("<script"), std::string::npos);
}

TEST(Highlight, NonAsciiCaseFolded) {
  EXPECT_EQ(highlight("Привет МИР", parse_query("мир")), "Привет <mark>МИР</mark>");
}

// The fold may change the length: what is marked is the original
// characters the match came from, whole.
TEST(Highlight, MarksWholeOriginalCharacters) {
  EXPECT_EQ(highlight("Straße", parse_query("ss")), "Stra<mark>ß</mark>e");
  EXPECT_EQ(highlight("Straße", parse_query("s")), "<mark>S</mark>tra<mark>ß</mark>e");
  EXPECT_EQ(highlight("STRASSE", parse_query("ß")), "STRA<mark>SS</mark>E");
  EXPECT_EQ(highlight("<span>Știri azi</span>", parse_query("știri")), "<span><mark>Știri</mark> azi</span>");
  EXPECT_EQ(highlight("<span>TIẾNG VIỆT</span>", parse_query("\"tiếng việt\"")),
            "<span><mark>TIẾNG VIỆT</mark></span>");
  EXPECT_EQ(highlight("TIẾNG VIỆT", parse_query("việt")), "TIẾNG <mark>VIỆT</mark>");
  // Decomposed: the letter with all its marks.
  EXPECT_EQ(highlight("TIE\xCC\x82\xCC\x81NG VIE\xCC\xA3\xCC\x82T", parse_query("tiếng")),
            "<mark>TIE\xCC\x82\xCC\x81NG</mark> VIE\xCC\xA3\xCC\x82T");
  EXPECT_EQ(highlight("VIE\xCC\xA3\xCC\x82T", parse_query("ệ")), "VI<mark>E\xCC\xA3\xCC\x82</mark>T");
  EXPECT_EQ(highlight("VIE\xCC\xA3\xCC\x82T", parse_query("vie")), "VIE\xCC\xA3\xCC\x82T");  // e is not ệ
  EXPECT_EQ(highlight("xＡＢＣy", parse_query("abc")), "x<mark>ＡＢＣ</mark>y");
  EXPECT_EQ(highlight("ab\xC2\xAD" "cd", parse_query("abcd")), "<mark>ab\xC2\xAD" "cd</mark>");
  // Next to entities, which stay whole.
  EXPECT_EQ(highlight("Straße &amp; STRASSE", parse_query("strasse")),
            "<mark>Straße</mark> &amp; <mark>STRASSE</mark>");
  EXPECT_EQ(highlight("&lt;ß&gt;", parse_query("<ss>")), "<mark>&lt;ß&gt;</mark>");
  // Two matches inside one original character mark it once.
  EXPECT_EQ(highlight("aﬃb", parse_query("f i")), "a<mark>ﬃ</mark>b");
  EXPECT_EQ(highlight("ﬃ ﬁ", parse_query("i")), "<mark>ﬃ</mark> <mark>ﬁ</mark>");
  EXPECT_EQ(highlight("5 ㎒!", parse_query("m z")), "5 <mark>㎒</mark>!");  // m, h, z: not adjacent
}

TEST(Find, NewestFirstAcrossDays) {
  MemoryDays days;
  days.add(make_post("a", kSec + 10, 0, "old hit"));
  days.add(make_post("a", kSec + 20, 0, "miss"));
  days.add(make_post("b", kSec + kDay + 5, 0, "hit one"));
  days.add(make_post("b", kSec + kDay + 9, 0, "HIT two"));
  days.add(make_post("c", kSec + 3 * kDay, 0, "newest hit"));
  Results r = find(days, parse_query("hit"), 1);
  ASSERT_EQ(r.hits.size(), 4u);
  EXPECT_EQ(r.hits[0].post.text, "newest hit");
  EXPECT_EQ(r.hits[1].post.text, "HIT two");
  EXPECT_EQ(r.hits[2].post.text, "hit one");
  EXPECT_EQ(r.hits[3].post.text, "old hit");
  EXPECT_EQ(r.hits[3].day, (Date{2024, 11, 24}));
  EXPECT_EQ(r.hits[0].day, (Date{2024, 11, 27}));
  EXPECT_FALSE(r.has_more);
}

TEST(Find, PagesAndSaysWhetherMoreFollow) {
  MemoryDays days;
  for (int i = 0; i < 7; ++i) days.add(make_post("a", kSec + i * 3600, 0, "match " + std::to_string(i)));
  Results p1 = find(days, parse_query("match"), 1, 3);
  Results p2 = find(days, parse_query("match"), 2, 3);
  Results p3 = find(days, parse_query("match"), 3, 3);
  Results p4 = find(days, parse_query("match"), 4, 3);
  ASSERT_EQ(p1.hits.size(), 3u);
  EXPECT_EQ(p1.hits[0].post.text, "match 6");
  EXPECT_TRUE(p1.has_more);
  ASSERT_EQ(p2.hits.size(), 3u);
  EXPECT_EQ(p2.hits[0].post.text, "match 3");
  EXPECT_TRUE(p2.has_more);
  ASSERT_EQ(p3.hits.size(), 1u);
  EXPECT_EQ(p3.hits[0].post.text, "match 0");
  EXPECT_FALSE(p3.has_more);
  EXPECT_TRUE(p4.hits.empty());
  EXPECT_EQ(p4.page, 4u);
}

TEST(Find, ExactlyFullPageHasNoMore) {
  MemoryDays days;
  for (int i = 0; i < 3; ++i) days.add(make_post("a", kSec + i, 0, "x"));
  Results r = find(days, parse_query("x"), 1, 3);
  EXPECT_EQ(r.hits.size(), 3u);
  EXPECT_FALSE(r.has_more);
}

TEST(Find, StopsReadingOnceThePageIsFull) {
  MemoryDays days;
  for (int d = 0; d < 30; ++d) days.add(make_post("a", kSec + d * kDay, 0, "x"));
  Results r = find(days, parse_query("x"), 1, 2);
  EXPECT_EQ(r.hits.size(), 2u);
  EXPECT_TRUE(r.has_more);
  EXPECT_EQ(days.reads, 3);  // two days for the page, one to learn that more follow
}

TEST(Find, OutOfTimeAnswersWithWhatItFoundSoFarMarkedPartial) {
  MemoryDays days;
  for (int d = 0; d < 5; ++d) days.add(make_post("n", kSec + d * kDay, 0, "match day " + std::to_string(d)));
  int checks = 0;
  Budget budget;
  budget.out_of_time = [&] { return ++checks > 2; };  // two days read, then the time is up
  Results r = find(days, parse_query("match"), 1, kPageSize, budget);
  EXPECT_TRUE(r.partial);
  EXPECT_FALSE(r.cancelled);
  EXPECT_FALSE(r.has_more);
  ASSERT_EQ(r.hits.size(), 2u);
  EXPECT_EQ(r.hits[0].post.text, "match day 4");
  EXPECT_EQ(r.hits[1].post.text, "match day 3");
  EXPECT_EQ(days.reads, 2);

  Results whole = find(days, parse_query("match"), 1);  // no budget: all of it
  EXPECT_FALSE(whole.partial);
  EXPECT_EQ(whole.hits.size(), 5u);
}

TEST(Find, TheBudgetIsCheckedWithinALongDayToo) {
  MemoryDays days;
  for (size_t i = 0; i < kPostsBetweenChecks * 3; ++i) days.add(make_post("n", kSec + 10, 0, "no"));
  int checks = 0;
  Budget budget;
  budget.out_of_time = [&] { return ++checks > 2; };
  Results r = find(days, parse_query("match"), 1, kPageSize, budget);
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(days.reads, 1);
}

TEST(Find, ACancelledSearchStopsBeforeReadingMore) {
  MemoryDays days;
  for (int d = 0; d < 5; ++d) days.add(make_post("n", kSec + d * kDay, 0, "match"));
  StopFlag cancelled{true};
  Results r = find(days, parse_query("match"), 1, kPageSize, Budget{&cancelled, {}});
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(days.reads, 0);
}

TEST(Find, EmptyQueryAndBadPageNumbers) {
  MemoryDays days;
  days.add(make_post("a", kSec, 0, "x"));
  EXPECT_TRUE(find(days, parse_query(""), 1).hits.empty());
  EXPECT_EQ(days.reads, 0);
  EXPECT_EQ(find(days, parse_query("x"), 0).page, 1u);
  EXPECT_EQ(find(days, parse_query("x"), 0).hits.size(), 1u);
  EXPECT_EQ(find(days, parse_query("x"), kMaxPage + 100).page, kMaxPage);
}

}  // namespace
}  // namespace chaton::search
