// PgSearchIndex over a real PostgreSQL (tests/support/pg_cluster.h): the
// results through the database's index are the scan's, page for page.
#include "postgres/pg_search.h"

#include <gtest/gtest.h>

#include <map>

#include "support/memory_days.h"
#include "postgres/pg_store.h"
#include "postgres/schema.h"
#include "support/pg_cluster.h"
#include "util/civil_time.h"

namespace chaton::postgres {
namespace {

using ::chaton::testing::MemoryDays;

using chaton::testing::PgCluster;

// What a search shows of a hit.
std::vector<std::string> shown(const search::Results& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hits)
    out.push_back(format_date_path(h.day) + " " + std::to_string(h.post.sec) + "." +
                  std::to_string(h.post.usec) + " <" + h.post.nick + "> " + h.post.text + " [" +
                  h.post.ip.value_or("-") + "]");
  return out;
}

class PgSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHATON_REQUIRE_PG();
    url_ = PgCluster::shared().fresh_database("search");
    PgConnection c(url_);
    auto m = migrate(c);
    ASSERT_TRUE(m) << m.status().message();
    store_ = std::make_unique<PgStore>(url_, "lobby", "a", clock_);
    ASSERT_TRUE(store_->open());
  }

  // Appends to the store and to the scan's copy, in batches of up to 50.
  void add(const std::vector<Post>& posts) {
    for (size_t i = 0; i < posts.size(); i += 50) {
      std::vector<Post> batch(posts.begin() + static_cast<std::ptrdiff_t>(i),
                              posts.begin() + static_cast<std::ptrdiff_t>(std::min(posts.size(), i + 50)));
      ASSERT_TRUE(store_->append(batch));
    }
    for (const Post& p : posts) scan_.add(p);
  }

  // Every page of `q` (page size `size`) through the index equals the scan's.
  // Returns how many hits the scan found in all.
  size_t expect_same(PgSearchIndex& index, const std::string& q, size_t size = 3) {
    search::Query query = search::parse_query(q);
    size_t total = 0;
    for (size_t page = 1;; ++page) {
      search::Results want = search::find(scan_, query, page, size);
      MemoryDays unused;  // the exact source: only read when the database fails
      auto narrowed = index.narrow(query, unused);
      search::Results got = search::find(*narrowed, query, page, size);
      EXPECT_EQ(unused.reads, 0) << q;
      EXPECT_EQ(shown(got), shown(want)) << "query " << q << " page " << page;
      EXPECT_EQ(got.has_more, want.has_more) << "query " << q << " page " << page;
      total += want.hits.size();
      if (!want.has_more || page >= 50) break;
    }
    return total;
  }

  static Post post(std::string nick, std::string text, Date day, int n) {
    Post p;
    p.nick = std::move(nick);
    p.text = std::move(text);
    p.sec = seconds_from_date(day) + 600 + n;
    p.usec = n % 1000;
    p.ip = "192.0.2." + std::to_string(n % 250);
    return p;
  }

  // Posts over four days: plain words, folded capitals, Japanese, LIKE's
  // metacharacters, and a filler that makes the common word span several
  // of the database's fetches.
  std::vector<Post> sample() {
    const std::vector<std::pair<std::string, std::string>> lines = {
        {"Alice", "Hello World, this is the lobby"},
        {"bob", "hello again, WORLD"},
        {"Émile", "À L'ÉCOLE ce matin"},
        {"zoé", "l'école est fermée"},
        {"ΣΟΦΙΑ", "Καλημέρα ΚΟΣΜΕ"},
        {"дима", "ПРИВЕТ из Москвы"},
        {"Дима", "привет, москва"},
        {"たろう", "東京都に住んでいます"},
        {"はなこ", "京都へ行きました"},
        {"jiro", "東京タワーが見える"},
        {"carol", "sale: 100% off"},
        {"dave", "100 percent sure"},
        {"erin", "snake_case name"},
        {"frank", "snakeXcase name"},
        {"grace", "path c:\\dir\\file"},
        {"heidi", "path c:dir"},
        {"ivan", "a quoted phrase here"},
        {"judy", "phrase a quoted"},
        {"hello", "the nick says hello"},
    };
    std::vector<Post> out;
    int n = 0;
    for (int d = 0; d < 4; ++d) {
      Date day = civil_from_days(days_from_civil(Date{2026, 11, 20}) + d);
      for (const auto& [nick, text] : lines) out.push_back(post(nick, text, day, n++));
      for (int i = 0; i < 40; ++i)
        out.push_back(post("filler", "common chatter " + std::to_string(i), day, n++));
    }
    return out;
  }

  std::string url_;
  ManualClock clock_{SysTime{std::chrono::seconds(seconds_from_date(Date{2026, 11, 30}))}};
  std::unique_ptr<PgStore> store_;
  MemoryDays scan_;
};

TEST_F(PgSearchTest, FindsWhatTheScanFindsPageForPage) {
  add(sample());
  PgSearchIndex index(url_, "lobby");
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(expect_same(index, "hello"), 4u * 3);  // the text, and a nick
  EXPECT_EQ(expect_same(index, "WORLD hello"), 4u * 2);
  EXPECT_EQ(expect_same(index, "école"), 4u * 2);
  EXPECT_EQ(expect_same(index, "ÉCOLE"), 4u * 2);
  EXPECT_EQ(expect_same(index, "σοφια κοσμε"), 4u);
  EXPECT_EQ(expect_same(index, "Москв"), 4u * 2);
  EXPECT_EQ(expect_same(index, "ДИМА привет"), 4u * 2);
  EXPECT_EQ(expect_same(index, "\"a quoted phrase\""), 4u);
  EXPECT_EQ(expect_same(index, "a quoted phrase"), 4u * 2);
  EXPECT_EQ(expect_same(index, "common", 10), 4u * 40);
  EXPECT_EQ(expect_same(index, "common 3", 7), 4u * 13);  // 3, 13, 23, 30..39
  EXPECT_EQ(expect_same(index, "nothing-like-this"), 0u);
}

TEST_F(PgSearchTest, FindsJapaneseTermsOfAnyLength) {
  add(sample());
  PgSearchIndex index(url_, "lobby");
  ASSERT_TRUE(index.refresh());
  // Two characters: pg_trgm has no trigram to look up, and must not narrow
  // wrongly; three and more: narrowed by the index.
  EXPECT_EQ(expect_same(index, "東京"), 4u * 2);
  EXPECT_EQ(expect_same(index, "京都"), 4u * 2);
  EXPECT_EQ(expect_same(index, "京"), 4u * 3);
  EXPECT_EQ(expect_same(index, "東京都"), 4u);
  EXPECT_EQ(expect_same(index, "住んでいます"), 4u);
  EXPECT_EQ(expect_same(index, "たろう 東京"), 4u);
  EXPECT_EQ(expect_same(index, "東京　タワー"), 4u);  // split at the ideographic space
}

TEST_F(PgSearchTest, TakesLikeMetacharactersLiterally) {
  add(sample());
  PgSearchIndex index(url_, "lobby");
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(expect_same(index, "100%"), 4u);
  EXPECT_EQ(expect_same(index, "snake_case"), 4u);
  EXPECT_EQ(expect_same(index, "c:\\dir"), 4u);
  EXPECT_EQ(expect_same(index, "%"), 4u);
  EXPECT_EQ(expect_same(index, "_"), 4u);
  EXPECT_EQ(expect_same(index, "\\"), 4u);
  // The database narrows to exactly the posts holding the term: a % or _
  // in it is no wildcard.
  for (const char* q : {"100%", "snake_case", "c:\\dir"}) {
    auto got = index.candidates(search::parse_query(q), UINT64_MAX >> 1, 1000);
    ASSERT_TRUE(got) << got.status().message();
    EXPECT_EQ(got->size(), 4u) << q;
    for (const auto& c : *got) EXPECT_NE(c.post.text.find(q), std::string::npos) << q << ": " << c.post.text;
  }
}

TEST_F(PgSearchTest, AppendFoldsAndTheFoldIsWhatSearchFolds) {
  add({post("ÉMILE", "Hello ΚΟΣΜΕ", Date{2026, 11, 29}, 1)});
  PgConnection c(url_);
  auto r = c.exec("SELECT folded FROM chaton_posts");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->rows(), 1);
  EXPECT_EQ(r->text(0, 0), "émile\nhello κοσμε");
  EXPECT_EQ(folded_for_search("ÉMILE", "Hello ΚΟΣΜΕ"), "émile\nhello κοσμε");
  EXPECT_EQ(folded_for_search("Ștefan", "Straße TIẾNG VIỆT ＡＢＣ"), "ștefan\nstrasse tiếng việt abc");
  EXPECT_EQ(like_containing("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
}

TEST_F(PgSearchTest, FindsRowsWrittenWithoutAFoldAndFoldsThem) {
  add(sample());
  PgConnection c(url_);
  // As rows written before schema migration 2 (or by an importer that
  // left the column out).
  ASSERT_TRUE(c.exec("UPDATE chaton_posts SET folded = NULL WHERE seq % 3 = 0"));
  {
    PgSearchIndex index(url_, "lobby");
    search::StopFlag stop{true};  // finds the room, folds nothing
    ASSERT_TRUE(index.refresh(&stop));
    auto nulls = c.exec("SELECT count(*) FROM chaton_posts WHERE folded IS NULL");
    ASSERT_TRUE(nulls);
    EXPECT_GT(nulls->int64(0, 0), 0);
    EXPECT_EQ(expect_same(index, "hello"), 4u * 3);
    EXPECT_EQ(expect_same(index, "東京"), 4u * 2);
    EXPECT_EQ(expect_same(index, "common", 5), 4u * 40);
  }
  PgSearchIndex index(url_, "lobby");
  ASSERT_TRUE(index.refresh());
  auto nulls = c.exec("SELECT count(*) FROM chaton_posts WHERE folded IS NULL");
  ASSERT_TRUE(nulls);
  EXPECT_EQ(nulls->int64(0, 0), 0);
  auto wrong = c.exec("SELECT nick, text, folded FROM chaton_posts");
  ASSERT_TRUE(wrong);
  for (int i = 0; i < wrong->rows(); ++i)
    EXPECT_EQ(wrong->text(i, 2), folded_for_search(wrong->text(i, 0), wrong->text(i, 1)));
  EXPECT_EQ(expect_same(index, "hello"), 4u * 3);
}

// The issue's examples through the database, both ways.
TEST_F(PgSearchTest, FoldsCaseTheWayUnicodeSays) {
  add(sample());
  Date day{2026, 11, 28};
  add({post("Ștefan", "Știri azi", day, 1), post("vy", "TIẾNG VIỆT", day, 2), post("de", "Straße", day, 3),
       post("de", "STRASSE", day, 4), post("vy", "tie\xCC\x82\xCC\x81ng vie\xCC\xA3\xCC\x82t", day, 5),
       post("wide", "ＡＢＣ", day, 6)});
  PgSearchIndex index(url_, "lobby");
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(expect_same(index, "știri"), 1u);
  EXPECT_EQ(expect_same(index, "ȘTIRI"), 1u);
  EXPECT_EQ(expect_same(index, "ștefan"), 1u);
  EXPECT_EQ(expect_same(index, "\"tiếng việt\""), 2u);
  EXPECT_EQ(expect_same(index, "TIE\xCC\x82\xCC\x81NG"), 2u);
  EXPECT_EQ(expect_same(index, "ß"), 2u);
  EXPECT_EQ(expect_same(index, "ss"), 2u);
  EXPECT_EQ(expect_same(index, "abc"), 1u);
}

// Schema migration 4 (schema.h, kRefoldMigration) drops the folds written
// with the length-preserving fold of before wherever they hold more than
// ASCII (where the two folds agree), and the searches fold those rows again.
TEST_F(PgSearchTest, TheRefoldMigrationDropsOldFoldsAndSearchesRefoldThem) {
  add(sample());
  Date day{2026, 11, 28};
  add({post("Ștefan", "Știri azi", day, 1), post("de", "Straße", day, 3), post("ascii", "plain words", day, 4)});
  PgConnection c(url_);
  // As the old fold left them: lower() keeps ß and every length, as it did.
  ASSERT_TRUE(c.exec("UPDATE chaton_posts SET folded = lower(nick) || E'\\n' || lower(text)"));
  auto count = [&](const std::string& where) {
    auto r = c.exec("SELECT count(*) FROM chaton_posts WHERE " + where);
    EXPECT_TRUE(r);
    return r ? r->int64(0, 0) : -1;
  };
  EXPECT_EQ(count("folded = 'de' || E'\\n' || 'straße'"), 1);
  // And the database as it was before migration 4.
  ASSERT_TRUE(c.exec("ALTER TABLE chaton_posts DROP COLUMN fold_version"));
  ASSERT_TRUE(
      c.exec("CREATE INDEX chaton_posts_unfolded ON chaton_posts (room_id, seq) WHERE folded IS NULL"));
  ASSERT_TRUE(c.exec("DELETE FROM chaton_schema WHERE version >= " + std::to_string(kRefoldMigration)));
  auto m = migrate(c);
  ASSERT_TRUE(m) << m.status().message();
  EXPECT_EQ(*m, kRefoldMigration - 1);
  const int64_t non_ascii = count("(nick || text) ~ '[^\\x01-\\x7f]'");
  EXPECT_GT(non_ascii, 0);
  EXPECT_EQ(count("folded IS NULL"), non_ascii);
  EXPECT_EQ(count("folded = 'ascii' || E'\\n' || 'plain words'"), 1) << "an ASCII row keeps its fold";
  EXPECT_EQ(count("fold_version = " + std::to_string(kFoldVersion)), count("folded IS NOT NULL"))
      << "marked as the current fold";

  PgSearchIndex index(url_, "lobby");
  search::StopFlag stop{true};  // finds the room, folds nothing: the old rows are candidates
  ASSERT_TRUE(index.refresh(&stop));
  EXPECT_EQ(expect_same(index, "ss"), 1u);
  EXPECT_EQ(expect_same(index, "știri"), 1u);
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(count("folded IS NULL"), 0);
  auto rows = c.exec("SELECT nick, text, folded FROM chaton_posts");
  ASSERT_TRUE(rows);
  for (int i = 0; i < rows->rows(); ++i)
    EXPECT_EQ(rows->text(i, 2), folded_for_search(rows->text(i, 0), rows->text(i, 1)));
  EXPECT_EQ(expect_same(index, "ss"), 1u);
  EXPECT_EQ(expect_same(index, "hello"), 4u * 3);
}

// A rolling upgrade: another node applied migration 4, and this one still
// runs the binary of before. What it appends carries its own fold (ß kept:
// lower() as it did) and no fold_version; the new nodes' searches find
// those rows all the same and fold them again.
TEST_F(PgSearchTest, RowsANodeOfBeforeWritesAfterTheMigrationAreFoundAndRefolded) {
  add(sample());
  Date day{2026, 11, 28};
  add({post("de", "STRASSE", day, 1)});
  PgConnection c(url_);
  // The append of a node of before (pg_store.cpp's, without fold_version).
  auto append_as_before = [&](const Post& p) {
    auto r = c.exec(R"sql(
WITH r AS (
  UPDATE chaton_rooms SET sequence = sequence + 1, last_post = greatest(last_post, $2::bigint)
  WHERE slug = $1 RETURNING id, sequence),
d AS (
  INSERT INTO chaton_days (room_id, day, posts)
  SELECT id, date '1970-01-01' + floor($2::bigint / 86400.0)::integer, 1 FROM r
  ON CONFLICT (room_id, day) DO UPDATE SET posts = chaton_days.posts + 1)
INSERT INTO chaton_posts (room_id, seq, day, sec, usec, nick, text, ip, folded)
SELECT id, sequence, date '1970-01-01' + floor($2::bigint / 86400.0)::integer, $2::bigint, $3::integer,
       $4, $5, $6, lower($4) || E'\n' || lower($5)
FROM r)sql",
                    {"lobby", std::to_string(p.sec), std::to_string(p.usec), p.nick, p.text, *p.ip});
    ASSERT_TRUE(r) << r.status().message();
    scan_.add(p);
  };
  append_as_before(post("de", "Straße", day, 2));
  append_as_before(post("ascii", "plain words", day, 3));
  append_as_before(post("Ștefan", "Știri azi", day, 4));
  auto count = [&](const std::string& where) {
    auto r = c.exec("SELECT count(*) FROM chaton_posts WHERE " + where);
    EXPECT_TRUE(r);
    return r ? r->int64(0, 0) : -1;
  };
  EXPECT_EQ(count("folded = 'de' || E'\\n' || 'straße'"), 1);

  PgSearchIndex index(url_, "lobby");
  search::StopFlag stop{true};  // finds the room, folds nothing
  ASSERT_TRUE(index.refresh(&stop));
  EXPECT_EQ(expect_same(index, "ss"), 2u);
  EXPECT_EQ(expect_same(index, "ß"), 2u);
  EXPECT_EQ(expect_same(index, "STRASSE"), 2u);
  EXPECT_EQ(expect_same(index, "ȘTIRI"), 1u);
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(count("folded = 'de' || E'\\n' || 'strasse'"), 2);
  auto rows = c.exec("SELECT nick, text, folded, fold_version FROM chaton_posts");
  ASSERT_TRUE(rows) << rows.status().message();
  for (int i = 0; i < rows->rows(); ++i) {
    EXPECT_EQ(rows->text(i, 2), folded_for_search(rows->text(i, 0), rows->text(i, 1)));
    EXPECT_EQ(rows->text(i, 3), std::to_string(kFoldVersion)) << rows->text(i, 1);
  }
  EXPECT_EQ(expect_same(index, "ss"), 2u);
  EXPECT_EQ(expect_same(index, "plain"), 1u);
  EXPECT_EQ(expect_same(index, "hello"), 4u * 3);
}

TEST_F(PgSearchTest, KeepsToItsRoomAndSeesNewPosts) {
  add(sample());
  PgStore other(url_, "other", "a", clock_);
  ASSERT_TRUE(other.open());
  std::vector<Post> elsewhere = {post("Alice", "hello from elsewhere", Date{2026, 11, 25}, 1)};
  ASSERT_TRUE(other.append(elsewhere));
  PgSearchIndex index(url_, "lobby");
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(expect_same(index, "hello"), 4u * 3);
  add({post("kate", "hello, a new day", Date{2026, 11, 28}, 7)});
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(expect_same(index, "hello"), 4u * 3 + 1);
}

TEST_F(PgSearchTest, WhenTheDatabaseFailsTheExactSourceAnswers) {
  add(sample());
  PgSearchIndex index(url_, "lobby");
  ASSERT_TRUE(index.refresh());
  PgConnection c(url_);
  ASSERT_TRUE(c.exec("ALTER TABLE chaton_posts RENAME TO chaton_posts_away"));  // every query fails
  search::Query query = search::parse_query("hello");
  auto narrowed = index.narrow(query, scan_);
  search::Results got = search::find(*narrowed, query, 2, 5);
  EXPECT_GT(scan_.reads, 0);
  EXPECT_EQ(shown(got), shown(search::find(scan_, query, 2, 5)));
  EXPECT_TRUE(got.has_more);
}

TEST_F(PgSearchTest, ARoomMissingFromTheDatabaseIsAnError) {
  PgSearchIndex index(url_, "nowhere");
  EXPECT_FALSE(index.refresh());
}

}  // namespace
}  // namespace chaton::postgres
