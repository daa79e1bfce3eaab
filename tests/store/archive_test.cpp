// Tests for archiving and reading archives back (docs/STORAGE.md, "Archiving")
// with the FileStore: day files and counts, the 31-post rule, symlinks,
// idempotency, month and year ends, unreadable lines, positions that never go
// back, an original installation's data directory served and archived in place,
// and archiving beside concurrent appends from another store object (as another
// process would) without losing or doubling a post.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "store/archive_fixture.h"
#include "store/file_archive.h"
#include "store/file_store.h"

namespace chaton {
namespace {

using namespace archive_test;

constexpr Date kNov20{2024, 11, 20};
constexpr Date kNov21{2024, 11, 21};
constexpr Date kNov22{2024, 11, 22};
constexpr Date kNov23{2024, 11, 23};
constexpr Date kNov24{2024, 11, 24};

class ArchiveTest : public ::testing::Test {
 protected:
  fs::path data() const { return dir_.path() / "data"; }
  fs::path current() const { return data() / "current.dat"; }
  fs::path day(Date d) const { return data() / (format_date_path(d) + ".dat"); }
  fs::path count(Date d) const { return data() / (format_date_path(d) + ".cnt"); }

  void write_current(const std::vector<Post>& posts) { write_text(current(), lines_of(posts)); }

  ArchiveReport archive_ok(Date today) {
    FileStore store(dir_.path());
    auto r = store.archive(today);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? std::move(r).value() : ArchiveReport{};
  }

  void expect_links(Date today) {
    for (Date d : {today, next_day(today)}) {
      ASSERT_TRUE(fs::is_symlink(day(d))) << day(d);
      EXPECT_EQ(fs::read_symlink(day(d)).string(), "../../current.dat");
    }
  }

  TempDir dir_{"archive"};
};

std::vector<Post> concat(std::initializer_list<std::vector<Post>> parts) {
  std::vector<Post> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

TEST_F(ArchiveTest, SplitsSeveralDaysIntoDayFilesAndKeepsToday) {
  auto d20 = posts_on(kNov20, 50, "twenty");
  auto d21 = posts_on(kNov21, 50, "twenty-one");
  auto d22 = posts_on(kNov22, 50, "twenty-two");
  auto d23 = posts_on(kNov23, 40, "today");
  auto all = concat({d20, d21, d22, d23});
  write_current(all);
  std::string before = read_text(current());

  ArchiveReport r = archive_ok(kNov23);

  ASSERT_EQ(r.written.size(), 3u);
  EXPECT_EQ(r.written[0].date, kNov20);
  EXPECT_EQ(r.written[0].posts, 50u);
  EXPECT_EQ(r.written[2].date, kNov22);
  EXPECT_EQ(r.kept_in_current, 40u);
  EXPECT_EQ(r.removed_from_current, 150u);
  EXPECT_EQ(read_text(day(kNov20)), lines_of(d20));
  EXPECT_EQ(read_text(day(kNov21)), lines_of(d21));
  EXPECT_EQ(read_text(day(kNov22)), lines_of(d22));
  EXPECT_EQ(read_text(count(kNov20)), "50");  // no newline, as the original writes it
  EXPECT_EQ(read_text(count(kNov22)), "50");
  EXPECT_EQ(read_text(current()), lines_of(d23));
  EXPECT_EQ(read_text(data() / "current.dat.bak"), before);
  EXPECT_FALSE(fs::exists(data() / "current.dat.tmp"));
  expect_links(kNov23);
  EXPECT_EQ(read_text(data() / "sequence"), "190");
}

TEST_F(ArchiveTest, KeepsAtLeastTheLast31PostsAndStillArchivesThem) {
  auto d20 = posts_on(kNov20, 20, "a");
  auto d21 = posts_on(kNov21, 20, "b");
  auto d22 = posts_on(kNov22, 5, "c");
  write_current(concat({d20, d21, d22}));

  ArchiveReport r = archive_ok(kNov23);  // nothing from today: the last 31 stay

  EXPECT_EQ(r.kept_in_current, 31u);
  EXPECT_EQ(r.removed_from_current, 14u);
  auto kept = texts_in(current());
  ASSERT_EQ(kept.size(), 31u);
  EXPECT_EQ(kept.front(), "a 14");
  EXPECT_EQ(kept.back(), "c 4");
  // Posts kept by the rule also went to their day files.
  EXPECT_EQ(read_text(day(kNov20)), lines_of(d20));
  EXPECT_EQ(read_text(day(kNov21)), lines_of(d21));
  EXPECT_EQ(read_text(day(kNov22)), lines_of(d22));
}

TEST_F(ArchiveTest, ARoomWithFewerThan31PostsKeepsThemAll) {
  auto posts = concat({posts_on(kNov20, 4, "a"), posts_on(kNov21, 0, "b"), posts_on(kNov22, 6, "c")});
  write_current(posts);
  std::string before = read_text(current());

  ArchiveReport r = archive_ok(kNov23);

  EXPECT_EQ(r.kept_in_current, 10u);
  EXPECT_EQ(r.removed_from_current, 0u);
  EXPECT_EQ(read_text(current()), before);
  EXPECT_FALSE(fs::exists(data() / "current.dat.bak"));  // nothing was cut
  ASSERT_EQ(r.written.size(), 3u);
  EXPECT_EQ(r.written[1].date, kNov21);  // a quiet day in between: an empty file, count 0
  EXPECT_EQ(r.written[1].posts, 0u);
  EXPECT_EQ(read_text(day(kNov21)), "");
  EXPECT_EQ(read_text(count(kNov21)), "0");
  EXPECT_EQ(read_text(count(kNov22)), "6");
  expect_links(kNov23);
}

TEST_F(ArchiveTest, ARoomWithExactly31PostsKeepsThemAll) {
  write_current(concat({posts_on(kNov20, 11, "a"), posts_on(kNov21, 20, "b")}));
  ArchiveReport r = archive_ok(kNov23);
  EXPECT_EQ(r.kept_in_current, 31u);
  EXPECT_EQ(r.removed_from_current, 0u);
  EXPECT_EQ(texts_in(current()).size(), 31u);
  EXPECT_EQ(read_text(count(kNov20)), "11");
  EXPECT_EQ(read_text(count(kNov21)), "20");
}

TEST_F(ArchiveTest, With32PostsTheOldestOneGoes) {
  write_current(concat({posts_on(kNov20, 12, "a"), posts_on(kNov21, 20, "b")}));
  ArchiveReport r = archive_ok(kNov23);
  EXPECT_EQ(r.kept_in_current, 31u);
  EXPECT_EQ(r.removed_from_current, 1u);
  EXPECT_EQ(texts_in(current()).front(), "a 1");
  EXPECT_EQ(texts_in(day(kNov20)).size(), 12u);
}

TEST_F(ArchiveTest, RunningItTwiceChangesNothing) {
  write_current(concat({posts_on(kNov20, 40, "a"), posts_on(kNov21, 40, "b"), posts_on(kNov23, 3, "c")}));
  ArchiveReport first = archive_ok(kNov23);
  EXPECT_EQ(first.written.size(), 3u);
  auto before = snapshot(dir_.path());

  ArchiveReport second = archive_ok(kNov23);

  EXPECT_TRUE(second.written.empty());
  EXPECT_EQ(second.removed_from_current, 0u);
  EXPECT_EQ(second.kept_in_current, first.kept_in_current);
  auto after = snapshot(dir_.path());
  EXPECT_EQ(snapshot_diff(before, after), "");  // same files, contents and inodes
}

TEST_F(ArchiveTest, ARealDayFileIsNeverOverwrittenAndALinkIsReplaced) {
  write_current(concat({posts_on(kNov20, 40, "a"), posts_on(kNov21, 40, "b"), posts_on(kNov22, 40, "c")}));
  write_text(day(kNov20), "hand-made archive, keep me\n");
  write_text(count(kNov20), "7");
  fs::create_directories(day(kNov21).parent_path());
  fs::create_symlink("../../current.dat", day(kNov21));  // left by an archiver the day before

  ArchiveReport r = archive_ok(kNov23);

  EXPECT_EQ(read_text(day(kNov20)), "hand-made archive, keep me\n");
  EXPECT_EQ(read_text(count(kNov20)), "7");
  ASSERT_EQ(r.written.size(), 2u);
  EXPECT_EQ(r.written[0].date, kNov21);
  EXPECT_FALSE(fs::is_symlink(day(kNov21)));
  EXPECT_EQ(texts_in(day(kNov21)).size(), 40u);
  bool noted = false;
  for (const auto& n : r.notes) noted |= n.find("already archived, left as they are: 2024/11/20") == 0;
  EXPECT_TRUE(noted);
  // The posts of the 20th are not in that file: they are never dropped.
  auto kept = texts_in(current());
  EXPECT_EQ(kept.size(), 71u);
  EXPECT_EQ(kept.front(), "a 0");
  EXPECT_EQ(r.kept_in_current, 71u);
}

// A post stamped just before midnight and committed just after the day was
// archived reaches current.dat late: it stays there and shows with its day.
TEST_F(ArchiveTest, ALatePostOfAnArchivedDayIsNeverLost) {
  auto d21 = posts_on(kNov21, 40, "b");
  write_current(d21);
  FileStore store(dir_.path());
  ASSERT_TRUE(store.open().is_ok());
  ASSERT_TRUE(store.archive(kNov22).is_ok());
  std::vector<Post> late{post_at(at(kNov21, 23, 59, 59), "late")};
  ASSERT_TRUE(store.append(late).is_ok());
  for (int i = 0; i < 40; ++i) {
    std::vector<Post> batch{post_at(at(kNov22, 1, i), "next " + std::to_string(i))};
    ASSERT_TRUE(store.append(batch).is_ok());
  }
  std::string day21 = read_text(day(kNov21));

  auto r = store.archive(kNov23);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(read_text(day(kNov21)), day21);  // left alone
  auto kept = texts_in(current());
  EXPECT_EQ(std::count(kept.begin(), kept.end(), "late"), 1);
  EXPECT_EQ(kept.size(), 32u);
  auto shown = store.read_day(kNov21);
  ASSERT_TRUE(shown.is_ok());
  ASSERT_EQ(shown->size(), 41u);
  EXPECT_EQ(shown->back().text, "late");
  bool noted = false;
  for (const auto& n : r->notes) noted |= n.find("1 post of 2024/11/21 is not in") == 0;
  EXPECT_TRUE(noted);

  // A second run changes nothing.
  auto before = snapshot(dir_.path());
  ASSERT_TRUE(store.archive(kNov23).is_ok());
  EXPECT_EQ(snapshot_diff(before, snapshot(dir_.path())), "");
}

TEST_F(ArchiveTest, CrossesMonthAndYearEndsAndLeapDays) {
  Date dec31{2024, 12, 31}, jan1{2025, 1, 1}, feb28{2025, 2, 28}, mar1{2025, 3, 1}, mar2{2025, 3, 2};
  write_current(concat({posts_on(dec31, 31, "dec31"), posts_on(jan1, 31, "jan1"),
                        posts_on(feb28, 31, "feb28"), posts_on(mar1, 31, "mar1")}));
  ArchiveReport r = archive_ok(mar2);

  // Every day from 2024/12/31 to 2025/03/01: 1 + 31 + 28 + 1 days.
  EXPECT_EQ(r.written.size(), 61u);
  EXPECT_EQ(texts_in(data() / "2024/12/31.dat").size(), 31u);
  EXPECT_EQ(texts_in(data() / "2025/01/01.dat").size(), 31u);
  EXPECT_EQ(read_text(data() / "2025/02/28.cnt"), "31");
  EXPECT_EQ(read_text(data() / "2025/01/15.cnt"), "0");
  EXPECT_FALSE(fs::exists(data() / "2025/02/29.dat"));
  EXPECT_EQ(r.kept_in_current, 31u);  // nothing today: the last 31 posts, those of 03/01
  expect_links(mar2);
  EXPECT_TRUE(fs::is_symlink(data() / "2025/03/03.dat"));

  // Leap year: 2024/02/28 -> 02/29 -> 03/01, tomorrow's link on the 29th.
  TempDir leap("archive-leap");
  write_text(leap.path() / "data/current.dat",
             lines_of(concat({posts_on(Date{2024, 2, 28}, 2, "x"), posts_on(Date{2024, 2, 29}, 2, "y")})));
  FileStore store(leap.path());
  auto lr = store.archive(Date{2024, 2, 28});
  ASSERT_TRUE(lr.is_ok()) << lr.status().message();
  EXPECT_TRUE(fs::is_symlink(leap.path() / "data/2024/02/29.dat"));
  auto lr2 = store.archive(Date{2024, 3, 1});
  ASSERT_TRUE(lr2.is_ok());
  EXPECT_EQ(read_text(leap.path() / "data/2024/02/29.cnt"), "2");
}

TEST_F(ArchiveTest, SkipsAndReportsUnreadableLines) {
  auto d21 = posts_on(kNov21, 3, "ok");
  std::string content = encode_line(d21[0]) + "\n" + "garbage here\n" + encode_line(d21[1]) + "\n\n" +
                        encode_line(d21[2]) + "\n";
  for (const Post& p : posts_on(kNov23, 35, "today")) content += encode_line(p) + "\n";
  write_text(current(), content);

  ArchiveReport r = archive_ok(kNov23);

  EXPECT_EQ(read_text(day(kNov21)), lines_of(d21));
  EXPECT_EQ(read_text(count(kNov21)), "3");
  bool reported = false;
  for (const auto& n : r.notes) reported |= n.find("current.dat:2: unreadable line") != std::string::npos;
  EXPECT_TRUE(reported);
  EXPECT_EQ(texts_in(current()).size(), 35u);
  EXPECT_EQ(read_text(data() / "current.dat.bak"), content);  // the bad line survives there
}

TEST_F(ArchiveTest, PositionsDoNotGoBackWhenTheSequenceFileIsMissing) {
  write_current(concat({posts_on(kNov21, 60, "old"), posts_on(kNov23, 5, "new")}));
  archive_ok(kNov23);
  EXPECT_EQ(read_text(data() / "sequence"), "65");

  FileStore store(dir_.path());
  auto snap = store.open();
  ASSERT_TRUE(snap.is_ok());
  EXPECT_EQ(snap->sequence, 65u);
  ASSERT_EQ(snap->recent.size(), 31u);
  EXPECT_EQ(snap->recent.front().seq, 35u);
  EXPECT_EQ(snap->recent.back().seq, 65u);
}

TEST_F(ArchiveTest, AnOpenStoreKeepsItsSequenceAndAppendsToTheNewFile) {
  write_current(posts_on(kNov21, 50, "old"));
  write_text(data() / "sequence", "500");
  FileStore store(dir_.path());
  ASSERT_TRUE(store.open().is_ok());

  auto r = store.archive(kNov23);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(read_text(data() / "sequence"), "500");

  std::vector<Post> batch{post_at(at(kNov23, 1), "after archiving")};
  ASSERT_TRUE(store.append(batch).is_ok());
  EXPECT_EQ(batch[0].seq, 501u);
  auto kept = texts_in(current());
  ASSERT_EQ(kept.size(), 32u);
  EXPECT_EQ(kept.back(), "after archiving");
  EXPECT_EQ(texts_in(data() / "current.dat.bak").size(), 50u);
}

TEST_F(ArchiveTest, AnEmptyRoomGetsItsLinksOnly) {
  fs::create_directories(data());
  ArchiveReport r = archive_ok(kNov23);
  EXPECT_TRUE(r.written.empty());
  EXPECT_EQ(r.kept_in_current, 0u);
  expect_links(kNov23);
  EXPECT_FALSE(fs::exists(current()));
}

TEST_F(ArchiveTest, AMissingDataDirectoryIsNotFoundAndNothingIsCreated) {
  FileStore store(dir_.path() / "nowhere");
  auto r = store.archive(kNov23);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::not_found);
  EXPECT_FALSE(fs::exists(dir_.path() / "nowhere"));
}

TEST_F(ArchiveTest, RefusesAnInvalidDate) {
  fs::create_directories(data());
  FileStore store(dir_.path());
  auto r = store.archive(Date{2025, 2, 30});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::invalid);
  EXPECT_FALSE(fs::exists(data() / "2025"));
}

// --- reading archives back

TEST_F(ArchiveTest, ReadDayFromADayFileOrTheLiveLog) {
  auto d21 = posts_on(kNov21, 40, "b");
  auto d22 = posts_on(kNov22, 3, "c");
  write_current(concat({posts_on(kNov20, 2, "a"), d21}));
  archive_ok(kNov22);
  // Posts of the 22nd arrive in the live log afterwards.
  std::string live = read_text(current()) + lines_of(d22);
  write_text(current(), live);

  FileStore store(dir_.path());
  auto r20 = store.read_day(kNov20);
  ASSERT_TRUE(r20.is_ok());
  EXPECT_EQ(texts_of(*r20), (std::vector<std::string>{"a 0", "a 1"}));
  auto r21 = store.read_day(kNov21);  // a real file; current.dat also holds some of it
  ASSERT_TRUE(r21.is_ok());
  EXPECT_EQ(r21->size(), 40u);
  auto r22 = store.read_day(kNov22);  // today: a link to current.dat, filtered to the day
  ASSERT_TRUE(r22.is_ok());
  EXPECT_EQ(texts_of(*r22), texts_of(d22));
  auto r23 = store.read_day(kNov23);  // tomorrow: a link, nothing yet
  ASSERT_TRUE(r23.is_ok());
  EXPECT_TRUE(r23->empty());
  auto r19 = store.read_day(Date{2024, 11, 19});
  ASSERT_FALSE(r19.is_ok());
  EXPECT_EQ(r19.status().code(), Errc::not_found);
}

TEST_F(ArchiveTest, ReadDayFiltersPostsOfOtherDates) {
  auto stray = posts_on(kNov21, 1, "stray");
  auto mine = posts_on(kNov20, 2, "mine");
  write_text(day(kNov20), lines_of(concat({mine, stray})));
  FileStore store(dir_.path());
  auto r = store.read_day(kNov20);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(texts_of(*r), texts_of(mine));
}

TEST_F(ArchiveTest, DaysInMonthUseCountsAndFallBackToCounting) {
  write_text(day(kNov20), lines_of(posts_on(kNov20, 4, "a")));
  write_text(count(kNov20), "4");
  write_text(day(kNov21), lines_of(posts_on(kNov21, 3, "b")));  // no .cnt
  write_text(day(kNov22), lines_of(posts_on(kNov22, 2, "c")));
  write_text(count(kNov22), "garbage");
  write_text(day(Date{2024, 11, 19}), "");  // a quiet day
  write_text(count(Date{2024, 11, 19}), "0");
  write_current(posts_on(kNov23, 5, "d"));
  fs::create_symlink("../../current.dat", day(kNov23));
  write_text(data() / "2024/10/31.dat", lines_of(posts_on(Date{2024, 10, 31}, 1, "e")));
  write_text(data() / "2024/10/31.cnt", "1");

  FileStore store(dir_.path());
  auto days = store.days_in_month(2024, 11);
  ASSERT_EQ(days.size(), 4u);
  EXPECT_EQ(days[0].date, kNov20);
  EXPECT_EQ(days[0].posts, 4u);
  EXPECT_EQ(days[1].posts, 3u);
  EXPECT_EQ(days[2].posts, 2u);
  EXPECT_EQ(days[3].date, kNov23);
  EXPECT_EQ(days[3].posts, 5u);
  EXPECT_TRUE(store.days_in_month(2024, 9).empty());
  EXPECT_TRUE(store.days_in_month(2024, 13).empty());
  EXPECT_EQ(store.months(), (std::vector<std::pair<int, int>>{{2024, 10}, {2024, 11}}));
}

TEST_F(ArchiveTest, DaysInMonthCountsAKeptDayOnce) {
  write_current(concat({posts_on(kNov21, 10, "b"), posts_on(kNov22, 10, "c")}));
  archive_ok(kNov23);  // every post is kept and archived as well
  FileStore store(dir_.path());
  auto days = store.days_in_month(2024, 11);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].posts, 10u);
  EXPECT_EQ(days[1].posts, 10u);
}

// --- an original installation's data directory, served and archived in place

// Lines as the original Gauche scripts wrote them: no address on an old
// line, escapes, non-ASCII text.
constexpr std::string_view kOriginalDay =
    "(\"shiro\" (1732060800 5) \"first of the day\" \"127.0.0.1\")\n"
    "(\"名前\" (1732064400 123456) \"日本語\\nsecond line\")\n"
    "(\"\\\"q\\\"\" (1732100000 7) \"tab\\there\" \"::1\")\n";

TEST_F(ArchiveTest, ServesAnOriginalDataDirectoryInPlaceAndArchivesItAgain) {
  // 2024/11/20 archived by the original archiver; current.dat holds the 21st
  // and 22nd; its links for the 21st and 22nd are still there.
  write_text(day(kNov20), kOriginalDay);
  write_text(count(kNov20), "3");
  auto d21 = posts_on(kNov21, 40, "b");
  auto d22 = posts_on(kNov22, 5, "c");
  write_current(concat({d21, d22}));
  fs::create_symlink("../../current.dat", day(kNov21));
  fs::create_symlink("../../current.dat", day(kNov22));
  write_text(data() / "sequence", "1234\n");
  write_text(data() / "last-post", "1732300000\n");
  write_text(dir_.path() / "lock", "lockfile\n");
  write_text(dir_.path() / "logs/archive.log", "old log\n");

  FileStore store(dir_.path());
  auto snap = store.open();
  ASSERT_TRUE(snap.is_ok());
  EXPECT_EQ(snap->sequence, 1234u);
  EXPECT_EQ(snap->recent.size(), 45u);
  EXPECT_EQ(snap->recent.back().seq, 1234u);
  auto r20 = store.read_day(kNov20);
  ASSERT_TRUE(r20.is_ok());
  ASSERT_EQ(r20->size(), 3u);
  EXPECT_EQ((*r20)[1].text, "日本語\nsecond line");
  EXPECT_FALSE((*r20)[1].ip.has_value());
  auto days = store.days_in_month(2024, 11);
  ASSERT_EQ(days.size(), 3u);
  EXPECT_EQ(days[0].posts, 3u);
  EXPECT_EQ(days[1].posts, 40u);

  auto r = store.archive(kNov22);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->written.size(), 1u);  // the 21st; the 20th is left as it was
  EXPECT_EQ(read_text(day(kNov20)), kOriginalDay);
  EXPECT_FALSE(fs::is_symlink(day(kNov21)));
  EXPECT_EQ(read_text(day(kNov21)), lines_of(d21));
  EXPECT_EQ(read_text(count(kNov21)), "40");
  EXPECT_EQ(r->kept_in_current, 31u);  // the last 26 of the 21st and the 5 of today
  EXPECT_EQ(read_text(data() / "sequence"), "1234\n");
  expect_links(kNov22);

  std::vector<Post> batch{post_at(at(kNov22, 12), "new post")};
  ASSERT_TRUE(store.append(batch).is_ok());
  EXPECT_EQ(batch[0].seq, 1235u);
}

// --- a crash between a batch's write and its `sequence` (docs/STORAGE.md "current.base")

// The seq of every post of a freshly opened store, by text.
std::map<std::string, uint64_t> seqs_after_open(const fs::path& dir, uint64_t* sequence) {
  FileStore store(dir);
  auto snap = store.open();
  EXPECT_TRUE(snap.is_ok()) << snap.status().message();
  std::map<std::string, uint64_t> out;
  if (!snap) return out;
  for (const Post& p : snap->recent) out[p.text] = p.seq;
  *sequence = snap->sequence;
  return out;
}

// 100 posts archived a day later, then 3 acknowledged posts (101..103), then a
// kill -9 during the next batch left its line in current.dat with `sequence`
// still 103. Archiving then (with nothing to archive, or the next day) must
// not renumber the acknowledged posts.
TEST_F(ArchiveTest, ArchivingAfterACrashNeverRenumbersAcknowledgedPosts) {
  for (Date archive_day : {kNov22, kNov23}) {
    SCOPED_TRACE(format_date_path(archive_day));
    fs::remove_all(dir_.path());
    fs::create_directories(dir_.path());
    write_current(posts_on(kNov21, 100, "old"));
    write_text(data() / "sequence", "100");
    archive_ok(kNov22);
    {
      FileStore server(dir_.path());
      ASSERT_TRUE(server.open().is_ok());
      std::vector<Post> batch;
      for (int i = 0; i < 3; ++i) batch.push_back(post_at(at(kNov22, 1, i), "acked " + std::to_string(i)));
      ASSERT_TRUE(server.append(batch).is_ok());
      ASSERT_EQ(batch[0].seq, 101u);
      ASSERT_EQ(batch[2].seq, 103u);
    }  // killed while the next batch was being synced:
    write_text(current(), read_text(current()) + lines_of({post_at(at(kNov22, 2), "never acked")}));
    ASSERT_EQ(read_text(data() / "sequence"), "103");

    archive_ok(archive_day);  // `chaton archive`: a store that was never opened

    uint64_t sequence = 0;
    auto seqs = seqs_after_open(dir_.path(), &sequence);
    EXPECT_EQ(seqs["acked 0"], 101u);
    EXPECT_EQ(seqs["acked 1"], 102u);
    EXPECT_EQ(seqs["acked 2"], 103u);
    EXPECT_EQ(seqs["never acked"], 104u);
    EXPECT_EQ(seqs["old 99"], 100u);
    EXPECT_EQ(sequence, 104u);
  }
}

// --- archiving beside appends: nothing lost, nothing doubled

TEST_F(ArchiveTest, ArchivingBesideAnotherWriterLosesAndDoublesNothing) {
  constexpr int kPosts = 600;
  constexpr int64_t kStep = 1200;  // 20 minutes: about 72 posts a day, 8 days
  const int64_t start = at(kNov20, 0);
  std::atomic<int64_t> newest{start};
  std::atomic<bool> done{false};

  FileStore writer(dir_.path());
  ASSERT_TRUE(writer.open().is_ok());
  std::thread appender([&] {
    for (int i = 0; i < kPosts; ++i) {
      std::vector<Post> batch{post_at(start + i * kStep, "post " + std::to_string(i))};
      Status st = writer.append(batch);
      EXPECT_TRUE(st.is_ok()) << st.message();
      newest = batch[0].sec;
    }
    done = true;
  });
  FileStore archiver(dir_.path());  // a separate object: its own lock description
  int runs = 0;
  while (!done || runs < 3) {
    auto r = archiver.archive(utc_from_seconds(newest.load()).date);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ++runs;
  }
  appender.join();
  ASSERT_TRUE(archiver.archive(utc_from_seconds(newest.load()).date).is_ok());

  // Every post is in exactly one day file, or only in current.dat.
  std::map<std::string, int> in_days;
  for (const auto& e : fs::recursive_directory_iterator(data())) {
    if (e.path().extension() != ".dat" || e.is_symlink() || e.path().filename() == "current.dat") continue;
    for (const auto& t : texts_in(e.path())) ++in_days[t];
  }
  std::map<std::string, int> in_current;
  for (const auto& t : texts_in(current())) ++in_current[t];
  for (int i = 0; i < kPosts; ++i) {
    std::string t = "post " + std::to_string(i);
    int days = in_days.count(t) ? in_days[t] : 0;
    int live = in_current.count(t) ? in_current[t] : 0;
    EXPECT_LE(days, 1) << t << " doubled in the day files";
    EXPECT_LE(live, 1) << t << " doubled in current.dat";
    EXPECT_GE(days + live, 1) << t << " lost";
  }
  EXPECT_GE(in_current.size(), kMinPostsKept);
  EXPECT_EQ(read_text(data() / "sequence"), std::to_string(kPosts));
}

}  // namespace
}  // namespace chaton
