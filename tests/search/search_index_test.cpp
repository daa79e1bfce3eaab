// Tests for the search index (search/search_index.h): its trigram filters,
// and that a search through it gives exactly the scan's results, page for
// page, over a real room directory (FileStore) with archived days and a
// live log; while posts arrive and days are archived; and when the index
// file is stale, damaged or from another room.
#include "search/search_index.h"

#include <gtest/gtest.h>

#include <cstring>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "endpoints/page_data.h"
#include "messages/line_codec.h"
#include "rooms/room.h"
#include "search/search.h"
#include "search/trigrams.h"
#include "store/file_store.h"
#include "support/posts.h"
#include "support/temp_dir.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/text.h"

namespace chaton::search {
namespace {

namespace fs = std::filesystem;
using testing::make_post;
using testing::TempDir;

constexpr int64_t kDay = 86400;
constexpr int64_t kStart = 1732406400;  // 2024/11/24 00:00:00 UTC

// ---- trigram filters

TEST(TrigramFilter, HoldsEveryTrigramOfWhatWasAdded) {
  TrigramFilter f;
  f.add(fold_case("Hello Wörld"));
  EXPECT_TRUE(f.has_all(query_slots(parse_query("hello"))));
  EXPECT_TRUE(f.has_all(query_slots(parse_query("WÖRL \"o w\""))));
  EXPECT_TRUE(f.has_all(query_slots(parse_query("wörld"))));
  EXPECT_FALSE(f.has_all(query_slots(parse_query("help"))));
}

TEST(TrigramFilter, ShortTermsDoNotFilter) {
  EXPECT_TRUE(query_slots(parse_query("a bc Z")).empty());
  EXPECT_EQ(query_slots(parse_query("ab abc")).size(), 1u);
  // A Japanese character is three bytes: one trigram of its own.
  EXPECT_EQ(query_slots(parse_query("東")).size(), 1u);
}

// ---- a room directory, searched both ways

const std::vector<std::string> kWords = {
    "hello",     "World", "chat",       "server",     "gauche", "Scheme", "lisp",     "ÉCOLE",
    "école",     "Ärger", "straße",     "ÇA",         "Ñandú",  "Αθήνα",  "ΣΟΦΙΑ",    "σοφία",
    "λόγος",     "東京",  "こんにちは", "ありがとう", "日本語", "検索",   "カタカナ", "MiXeD",
    "abc",       "ab",    "x",          "zzz",        "42",     "🙂",   "O'Reilly", "a-b",
    "tab\there", "Ÿes",   "ĀĒĪ",        "ПРИВЕТ",     "привет", "quick",  "brown",    "fox",
    // Full case folding (search.h): ß and SS, Romanian, Vietnamese
    // precomposed and decomposed, fullwidth, a ligature.
    "Știri",     "ȘTIRI", "STRASSE",    "Straße",     "TIẾNG",  "tiếng",  "VIỆT",     "vie\xCC\x82\xCC\xA3t",
    "TIE\xCC\x82\xCC\x81NG", "ＡＢＣ", "ﬁle", "FILE"};
// Pieces of generated words: ASCII, Latin-1 and Latin Extended-A capitals
// and small letters, Greek, Cyrillic, Japanese.
const std::vector<std::string> kSyllables = {"ka", "Lo", "mi", "ZU", "re", "É",  "ö",  "Ç",
                                             "ñ",  "Ÿ",  "Ł",  "ő",  "Σ",  "α",  "Ω",  "λ",
                                             "Ж",  "д",  "の", "カ", "東", "語", "ん", "x",
                                             "ß",  "SS", "Ș",  "ẾN", "e\xCC\x81", "Ｋ"};
const std::vector<std::string> kNicks = {"shiro", "KAZ", "Ådne", "Σωκράτης", "たろう", "guest", "Mallory"};

class IndexedSearchTest : public ::testing::Test {
 protected:
  // `count` posts from `from`, `step` seconds apart, appended in batches
  // like a room's commit queue (by a second FileStore on the same files).
  void add_posts(int64_t from, int count, int64_t step) {
    FileStore writer(dir_.path());
    ASSERT_TRUE(writer.open());
    std::vector<Post> batch;
    for (int i = 0; i < count; ++i) {
      batch.push_back(make_post(pick(kNicks), from + i * step, next_usec_++ % 1000000, random_text()));
      if (batch.size() == 25 || i + 1 == count) {
        ASSERT_TRUE(writer.append(batch));
        batch.clear();
      }
    }
  }

  void archive(Date today) {
    FileStore archiver(dir_.path());
    ASSERT_TRUE(archiver.archive(today));
  }

  // The words posts are made of: the fixed ones and many generated ones,
  // most of them rare, so that the index has blocks to rule out.
  static std::vector<std::string> make_vocabulary() {
    std::vector<std::string> words = kWords;
    std::mt19937 g(99);
    for (int i = 0; i < 1500; ++i) {
      int n = std::uniform_int_distribution<int>(2, 4)(g);
      std::string w;
      for (int j = 0; j < n; ++j)
        w += kSyllables[std::uniform_int_distribution<size_t>(0, kSyllables.size() - 1)(g)];
      words.push_back(w);
    }
    return words;
  }

  std::string pick(const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng_)];
  }

  std::string random_text() {
    int n = std::uniform_int_distribution<int>(1, 12)(rng_);
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + pick(vocabulary_);
    return s;
  }

  // A term: a word, a piece of one, a word of another case, or two words.
  std::string random_term() {
    std::string w = pick(vocabulary_);
    switch (std::uniform_int_distribution<int>(0, 5)(rng_)) {
      case 0: {  // a piece of a word, cut at a character boundary
        std::string t = pick(vocabulary_) + pick(vocabulary_);
        size_t a = std::uniform_int_distribution<size_t>(0, t.size() - 1)(rng_);
        size_t len = std::uniform_int_distribution<size_t>(1, 7)(rng_);
        while (a > 0 && (static_cast<unsigned char>(t[a]) & 0xC0) == 0x80) --a;
        size_t b = std::min(t.size(), a + len);
        while (b < t.size() && (static_cast<unsigned char>(t[b]) & 0xC0) == 0x80) ++b;
        return t.substr(a, b - a);
      }
      case 1: {  // another case, ASCII letters flipped
        for (char& c : w)
          if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        return w;
      }
      case 2:
        return "\"" + w + " " + pick(vocabulary_) + "\"";
      case 3:
        return pick(kNicks);
      case 4:
        return w + "q";  // usually found nowhere
      default:
        return w;
    }
  }

  std::string random_query() {
    int n = std::uniform_int_distribution<int>(1, 8)(rng_);
    // Most queries have one or two terms, so that they find something.
    if (std::uniform_int_distribution<int>(0, 3)(rng_) != 0) n = std::min(n, 2);
    std::string q;
    for (int i = 0; i < n; ++i) q += (i ? " " : "") + random_term();
    return q;
  }

  // The posts in the room's files: its real day files and current.dat.
  uint64_t posts_on_disk() {
    uint64_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_.path() / "data"))
      if (e.path().extension() == ".dat" && !e.is_symlink() && e.is_regular_file())
        n += parse_log(*read_file(e.path())).posts.size();
    return n;
  }

  // A Room over the directory: the scan's source (RoomDays) reads it.
  std::unique_ptr<Room> open_room() {
    RoomSettings s;
    s.config.slug = "lobby";
    s.config.data_dir = dir_.path().string();
    auto room = std::make_unique<Room>(s, std::make_unique<FileStore>(dir_.path()), clock_);
    std::vector<std::string> warnings;
    EXPECT_TRUE(room->open(&warnings));
    return room;
  }

  // Every page of `q`, scanned and through `index` (refreshed first unless
  // told not to): the same hits, the same has_more. Returns the hits seen.
  size_t expect_same(Room& room, SearchIndex& index, const std::string& q, bool refresh = true) {
    Query query = parse_query(q);
    if (refresh) {
      EXPECT_TRUE(index.refresh());
    }
    size_t total = 0;
    // Pages of 10; the first 8 pages of a query that finds more.
    for (size_t page = 1; page <= 8; ++page) {
      endpoints::RoomDays scan_days(room);
      Results scanned = find(scan_days, query, page, 10);
      endpoints::RoomDays exact(room);
      IndexedDays indexed_days(index, query, exact);
      Results indexed = find(indexed_days, query, page, 10);
      EXPECT_EQ(scanned.has_more, indexed.has_more) << q << " page " << page;
      EXPECT_EQ(scanned.hits.size(), indexed.hits.size()) << q << " page " << page;
      for (size_t i = 0; i < std::min(scanned.hits.size(), indexed.hits.size()); ++i) {
        const Hit& a = scanned.hits[i];
        const Hit& b = indexed.hits[i];
        EXPECT_TRUE(a.day == b.day && a.post.sec == b.post.sec && a.post.usec == b.post.usec &&
                    a.post.text == b.post.text && a.post.nick == b.post.nick)
            << q << " page " << page << " hit " << i << ": " << a.post.text << " / " << b.post.text;
      }
      total += scanned.hits.size();
      if (!scanned.has_more || ::testing::Test::HasFailure()) break;
    }
    return total;
  }

  TempDir dir_;
  const std::vector<std::string> vocabulary_ = make_vocabulary();
  std::mt19937 rng_{20261130};
  int64_t next_usec_ = 1;
  ManualClock clock_{from_seconds(kStart + 20 * kDay)};
};

TEST_F(IndexedSearchTest, RandomQueriesGiveTheScansResultsOnEveryPage) {
  add_posts(kStart, 900, 1200);  // about 12.5 days
  archive(Date{2024, 12, 4});    // the last days stay live
  add_posts(kStart + 11 * kDay, 60, 600);
  auto room = open_room();
  SearchIndex index(dir_.path());
  size_t found = 0;
  for (int i = 0; i < 200 && !HasFailure(); ++i) found += expect_same(*room, index, random_query());
  EXPECT_GT(found, 500u) << "the queries should find something";
  // A day through the index, whole: every matching post of the day, in order.
  for (int i = 0; i < 40 && !HasFailure(); ++i) {
    Query query = parse_query(random_query());
    endpoints::RoomDays exact(*room);
    IndexedDays indexed(index, query, exact);
    for (Date day : indexed.days()) {
      std::vector<Post> a = exact.posts(day), b = indexed.posts(day);
      std::erase_if(a, [&](const Post& p) { return !matches(p, query); });
      std::erase_if(b, [&](const Post& p) { return !matches(p, query); });
      ASSERT_EQ(a.size(), b.size()) << format_date_path(day);
      for (size_t k = 0; k < a.size(); ++k)
        EXPECT_EQ(a[k].sec * 1000000 + a[k].usec, b[k].sec * 1000000 + b[k].usec);
    }
  }
  // The index filters: it holds blocks of several files.
  EXPECT_GT(index.stats().blocks, 20u);
  EXPECT_GT(index.stats().day_files, 5u);
}

TEST_F(IndexedSearchTest, KeptUpToDateAsPostsArriveAndDaysAreArchived) {
  add_posts(kStart, 200, 1800);
  auto room = open_room();
  SearchIndex index(dir_.path());
  EXPECT_EQ(expect_same(*room, index, "hello"), expect_same(*room, index, "HELLO"));
  for (int round = 0; round < 6 && !HasFailure(); ++round) {
    add_posts(kStart + (5 + round) * kDay, 40, 900);
    for (int i = 0; i < 20; ++i) expect_same(*room, index, random_query());
    EXPECT_EQ(index.stats().posts, posts_on_disk()) << "every post is indexed, none twice";
    if (round % 2 == 1) {
      archive(utc_from_seconds(kStart + (5 + round) * kDay).date);
      for (int i = 0; i < 20; ++i) expect_same(*room, index, random_query());
      EXPECT_EQ(index.stats().posts, posts_on_disk());
    }
  }
  // Posts that arrive after the refresh (during a search) are read from
  // the live log beyond the index, newest first, as the scan reads them.
  add_posts(kStart + 12 * kDay, 30, 60);
  for (int i = 0; i < 20; ++i) expect_same(*room, index, random_query(), false);
  // The newest post is found at once.
  add_posts(kStart + 12 * kDay, 1, 1);
  FileStore writer(dir_.path());
  ASSERT_TRUE(writer.open());
  std::vector<Post> one{make_post("newcomer", kStart + 12 * kDay + 100, 1, "a brand-new needle")};
  ASSERT_TRUE(writer.append(one));
  EXPECT_EQ(expect_same(*room, index, "brand-new needle"), 1u);
}

TEST_F(IndexedSearchTest, ADamagedOrStaleIndexFileStillGivesTheScansResults) {
  add_posts(kStart, 400, 1800);
  archive(Date{2024, 12, 1});
  auto room = open_room();
  {
    SearchIndex index(dir_.path());
    ASSERT_TRUE(index.refresh());
  }
  fs::path file = dir_.path() / "data" / std::string(kIndexFileName);
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(SearchIndex::check(dir_.path()).state, SearchIndex::State::ok);
  auto bytes = read_file(file);
  ASSERT_TRUE(bytes);

  // Damaged: a byte changed in the middle, or cut short.
  for (int damage = 0; damage < 2; ++damage) {
    std::string broken = *bytes;
    if (damage == 0)
      broken[broken.size() / 2] ^= 0x10;
    else
      broken.resize(broken.size() / 3);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << broken;
    EXPECT_EQ(SearchIndex::check(dir_.path()).state, SearchIndex::State::unreadable);
    SearchIndex index(dir_.path());
    EXPECT_FALSE(index.load(broken));
    for (int i = 0; i < 15; ++i) expect_same(*room, index, random_query());
    EXPECT_EQ(SearchIndex::check(dir_.path()).state, SearchIndex::State::ok) << "written anew";
  }

  // Stale: a day file rewritten by hand after it was indexed; posts added.
  fs::path day = dir_.path() / "data" / "2024" / "11" / "25.dat";
  std::string added = encode_line(make_post("late", kStart + kDay + 5, 7, "needle in an old day")) + "\n";
  std::ofstream(day, std::ios::app) << added;
  add_posts(kStart + 8 * kDay, 30, 60);
  EXPECT_EQ(SearchIndex::check(dir_.path()).state, SearchIndex::State::stale);
  SearchIndex index(dir_.path());
  EXPECT_EQ(expect_same(*room, index, "needle"), 1u);
  for (int i = 0; i < 15; ++i) expect_same(*room, index, random_query());
  EXPECT_EQ(SearchIndex::check(dir_.path()).state, SearchIndex::State::ok);
}

// A file whose checksum is right but whose block sizes wrap past 2^64 (so
// that the blocks still seem to tile the file) is refused, not read.
TEST_F(IndexedSearchTest, BlocksThatWrapPastTheEndOfTheirFileAreRefused) {
  add_posts(kStart, 400, 1800);  // all in the live log: several blocks
  auto room = open_room();
  SearchIndex index(dir_.path());
  ASSERT_TRUE(index.refresh());
  std::string bytes = index.serialize();
  ASSERT_TRUE(index.load(bytes));
  auto u64_at = [&](size_t at) {
    uint64_t v;
    std::memcpy(&v, bytes.data() + at, 8);
    return v;
  };
  auto set_u64 = [&](size_t at, uint64_t v) { std::memcpy(bytes.data() + at, &v, 8); };
  // docs/STORAGE.md "search.idx": magic, version, filter bits, then the live
  // log's FILE (44 bytes before its blocks), then its BLOCKs.
  const size_t file = 8 + 4 + 4, block0 = file + 44;
  uint32_t blocks;
  std::memcpy(&blocks, bytes.data() + file + 40, 4);
  ASSERT_GE(blocks, 2u);
  uint16_t ndays0;
  std::memcpy(&ndays0, bytes.data() + block0 + 20, 2);
  const size_t block1 = block0 + 22 + 4 * size_t{ndays0} + 512;
  ASSERT_EQ(u64_at(block1), u64_at(block0 + 8)) << "block 1 starts where block 0 ends";
  const uint64_t len0 = u64_at(block0 + 8), len1 = u64_at(block1 + 8);
  const uint64_t huge = ~uint64_t{0} - 9;  // 2^64 - 10
  set_u64(block0 + 8, huge);               // block 0: [0, 2^64 - 10)
  set_u64(block1, huge);                   // block 1 ends where it did, modulo 2^64
  set_u64(block1 + 8, len0 + len1 + 10);
  uint64_t sum = 1469598103934665603ull;  // FNV-1a 64 of what precedes it
  for (size_t i = 0; i + 8 < bytes.size(); ++i)
    sum = (sum ^ static_cast<unsigned char>(bytes[i])) * 1099511628211ull;
  set_u64(bytes.size() - 8, sum);

  SearchIndex crafted(dir_.path());
  EXPECT_FALSE(crafted.load(bytes));
}

TEST_F(IndexedSearchTest, AnIndexOfAnotherRoomIsNotBelieved) {
  add_posts(kStart, 200, 1800);
  archive(Date{2024, 11, 28});
  SearchIndex other(dir_.path());
  ASSERT_TRUE(other.refresh());
  std::string bytes = other.serialize();
  // The same files written again (new inodes), with other posts.
  fs::remove_all(dir_.path() / "data");
  rng_.seed(7);
  add_posts(kStart, 200, 1800);
  archive(Date{2024, 11, 28});
  auto room = open_room();
  SearchIndex index(dir_.path());
  ASSERT_TRUE(index.load(bytes));
  for (int i = 0; i < 40; ++i) expect_same(*room, index, random_query());
}

// An index written by a chaton that folded otherwise (version 1: the
// length-preserving fold of ASCII, Latin-1, Latin Extended-A, Greek and
// Cyrillic) has filters of other folds: it is refused, like a damaged one,
// and written anew by the next search; `chaton check` calls it unreadable,
// so `--repair` rebuilds it.
TEST_F(IndexedSearchTest, AnIndexOfAnOlderVersionIsRefusedAndRebuilt) {
  add_posts(kStart, 300, 1800);
  FileStore writer(dir_.path());
  ASSERT_TRUE(writer.open());
  std::vector<Post> planted{make_post("Ștefan", kStart + 7 * kDay, 1, "Straße TIẾNG VIỆT ＡＢＣ")};
  ASSERT_TRUE(writer.append(planted));
  auto room = open_room();
  std::string bytes;
  {
    SearchIndex index(dir_.path());
    ASSERT_TRUE(index.refresh());
    bytes = index.serialize();
  }
  constexpr uint32_t kLengthPreservingFold = 1;
  ASSERT_NE(kIndexVersion, kLengthPreservingFold);
  std::memcpy(bytes.data() + 8, &kLengthPreservingFold, 4);  // docs/STORAGE.md "search.idx"
  uint64_t sum = 1469598103934665603ull;                     // FNV-1a 64 of what precedes it
  for (size_t i = 0; i + 8 < bytes.size(); ++i) sum = (sum ^ static_cast<unsigned char>(bytes[i])) * 1099511628211ull;
  std::memcpy(bytes.data() + bytes.size() - 8, &sum, 8);
  fs::path file = dir_.path() / "data" / std::string(kIndexFileName);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;

  SearchIndex::Health health = SearchIndex::check(dir_.path());
  EXPECT_EQ(health.state, SearchIndex::State::unreadable);
  EXPECT_NE(health.detail.find("version 1"), std::string::npos) << health.detail;
  SearchIndex index(dir_.path());
  EXPECT_FALSE(index.load(bytes));
  for (std::string q : {"ss", "straße", "STRASSE", "știri", "ștefan", "tiếng việt", "\"tiếng việt\"",
                        "TIE\xCC\x82\xCC\x81NG", "abc", "ＡＢＣ", "file"})
    EXPECT_GE(expect_same(*room, index, q), 1u) << q;
  EXPECT_EQ(SearchIndex::check(dir_.path()).state, SearchIndex::State::ok) << "written anew";
  for (int i = 0; i < 40; ++i) expect_same(*room, index, random_query());
}

// The file's checksum (docs/STORAGE.md, "search.idx") is util/text.h's
// fnv1a64, the function the files on disk were summed with: FNV-1a's
// prime, but the offset basis 1469598103934665603 (the published one,
// 14695981039346656037, without its last digit). Pinned, so that the sum of
// the files already written cannot change.
TEST(SearchIndexFile, ChecksumIsTheFunctionTheFilesWereSummedWith) {
  EXPECT_EQ(kFnv1aOffset, 1469598103934665603ull);
  EXPECT_EQ(fnv1a64(""), 0x14650fb0739d0383ull);
  EXPECT_EQ(fnv1a64("a"), 0x44bd8ad473cd9906ull);
  EXPECT_EQ(fnv1a64("foobar"), 0x88fad7c0a8ff07f2ull);
  EXPECT_EQ(fnv1a64("\xff\x80"), 0x9a50c900c533a95cull);
  EXPECT_EQ(fnv1a64("bar", fnv1a64("foo")), fnv1a64("foobar"));
}

TEST_F(IndexedSearchTest, RebuildWritesAFileThatLoadsBack) {
  add_posts(kStart, 300, 1800);
  archive(Date{2024, 11, 30});
  SearchIndex index(dir_.path());
  ASSERT_TRUE(index.rebuild());
  auto stats = index.stats();
  // 288 posts before 2024/11/30 in day files, and the live log's 31 (its
  // last 31 are kept, some of them also in their day files).
  EXPECT_EQ(stats.posts, 288u + 31u);
  auto bytes = read_file(index.path());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), stats.file_bytes);
  SearchIndex again(dir_.path());
  ASSERT_TRUE(again.load(*bytes));
  EXPECT_EQ(again.serialize(), *bytes);
}

}  // namespace
}  // namespace chaton::search
