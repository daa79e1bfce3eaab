// Tests for checking and repairing a room's data directory: a healthy
// directory has no problems; a damaged one reports unreadable lines (file
// and line), counts that disagree, a low sequence, a torn tail and missing
// links; repair fixes exactly the safe ones, never touches a post, and a
// second repair has nothing left to do.
#include "store/data_check.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "store/archive_fixture.h"
#include "store/file_store.h"

namespace chaton::datacheck {
namespace {

using namespace archive_test;

constexpr Date kNov20{2024, 11, 20};
constexpr Date kNov21{2024, 11, 21};
constexpr Date kNov23{2024, 11, 23};

class DataCheckTest : public ::testing::Test {
 protected:
  fs::path data() const { return dir_.path() / "data"; }
  fs::path current() const { return data() / "current.dat"; }
  fs::path day(Date d) const { return data() / (format_date_path(d) + ".dat"); }
  fs::path count(Date d) const { return data() / (format_date_path(d) + ".cnt"); }

  // A healthy room, as the archiver leaves it on the 23rd.
  void make_healthy() {
    std::vector<Post> posts = posts_on(kNov20, 40, "a");
    auto more = posts_on(kNov21, 40, "b");
    posts.insert(posts.end(), more.begin(), more.end());
    write_text(current(), lines_of(posts));
    FileStore store(dir_.path());
    ASSERT_TRUE(store.archive(kNov23).is_ok());
  }

  const Problem* find(const std::vector<Problem>& ps, const fs::path& file, std::string_view what) {
    for (const Problem& p : ps)
      if (p.file == file.string() && p.what.find(what) != std::string::npos) return &p;
    return nullptr;
  }

  TempDir dir_{"data-check"};
};

TEST_F(DataCheckTest, AHealthyRoomHasNoProblems) {
  make_healthy();
  auto problems = check(dir_.path(), kNov23);
  for (const auto& p : problems) ADD_FAILURE() << format_problem(p);
}

TEST_F(DataCheckTest, AMissingDataDirectoryIsAProblem) {
  auto problems = check(dir_.path() / "nothing", kNov23);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_FALSE(problems[0].repairable);
  auto r = repair(dir_.path() / "nothing", kNov23);
  EXPECT_FALSE(r.is_ok());
  EXPECT_FALSE(fs::exists(dir_.path() / "nothing"));
}

TEST_F(DataCheckTest, ReportsEveryKindOfDamage) {
  make_healthy();
  // An unreadable line in a day file and in current.dat, a torn tail.
  write_text(day(kNov20), read_text(day(kNov20)) + "not a post\n");
  write_text(current(), "(\"x\" (1 2) \"y\" \"z\")\n" + read_text(current()) + "(\"torn\" (17324");
  write_text(count(kNov21), "39");             // disagrees with its day file
  write_text(data() / "sequence", "3");        // fewer than the posts in current.dat
  fs::remove(day(next_day(kNov23)));           // tomorrow's link is gone
  write_text(data() / "2024/11/05.cnt", "4");  // a count without a day file

  auto problems = check(dir_.path(), kNov23);

  const Problem* bad_day = find(problems, day(kNov20), "unreadable line");
  ASSERT_NE(bad_day, nullptr);
  EXPECT_EQ(bad_day->line, 41u);
  EXPECT_FALSE(bad_day->repairable);
  EXPECT_EQ(format_problem(*bad_day).rfind(day(kNov20).string() + ":41: unreadable line", 0), 0u);
  const Problem* torn = find(problems, current(), "no newline");
  ASSERT_NE(torn, nullptr);
  EXPECT_TRUE(torn->repairable);
  EXPECT_EQ(torn->line, 33u);
  const Problem* cnt = find(problems, count(kNov21), "says 39");
  ASSERT_NE(cnt, nullptr);
  EXPECT_TRUE(cnt->repairable);
  const Problem* seq = find(problems, data() / "sequence", "says 3");
  ASSERT_NE(seq, nullptr);
  EXPECT_TRUE(seq->repairable);
  const Problem* link = find(problems, day(next_day(kNov23)), "missing");
  ASSERT_NE(link, nullptr);
  EXPECT_TRUE(link->repairable);
  const Problem* orphan = find(problems, data() / "2024/11/05.cnt", "without its day file");
  ASSERT_NE(orphan, nullptr);
  EXPECT_FALSE(orphan->repairable);
  // The torn line is unreadable too; the first line, dated 1970, is a post.
  const Problem* unreadable = find(problems, current(), "unreadable");
  ASSERT_NE(unreadable, nullptr);
  EXPECT_EQ(unreadable->line, 33u);
}

TEST_F(DataCheckTest, RepairFixesTheSafeProblemsAndTouchesNoPost) {
  make_healthy();
  std::string day20 = read_text(day(kNov20)) + "not a post\n";
  write_text(day(kNov20), day20);
  std::string live = read_text(current()) + "(\"torn\" (1732400000 5) \"complete but torn\" \"::1\")";
  write_text(current(), live);
  write_text(count(kNov21), "garbage");
  fs::remove(count(kNov20));
  fs::remove(data() / "sequence");
  fs::remove(day(kNov23));
  fs::remove(day(next_day(kNov23)));
  fs::create_symlink("../../elsewhere.dat", day(next_day(kNov23)));

  auto r = repair(dir_.path(), kNov23);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->failures.empty());
  EXPECT_EQ(r->fixed.size(), 6u);

  EXPECT_EQ(read_text(current()), live + "\n");  // one newline added, nothing else
  EXPECT_EQ(read_text(day(kNov20)), day20);      // the bad line stays: never rewrite posts
  EXPECT_EQ(read_text(count(kNov20)), "40");
  EXPECT_EQ(read_text(count(kNov21)), "40");
  EXPECT_EQ(read_text(data() / "sequence"), "81");  // 80 posts, and the torn one (by current.base)
  EXPECT_EQ(fs::read_symlink(day(kNov23)).string(), "../../current.dat");
  EXPECT_EQ(fs::read_symlink(day(next_day(kNov23))).string(), "../../current.dat");

  // What is left is what repair must not touch: the unreadable line.
  auto left = check(dir_.path(), kNov23);
  ASSERT_EQ(left.size(), 1u) << format_problem(left[0]);
  EXPECT_EQ(left[0].line, 41u);
  auto before = snapshot(dir_.path());
  auto again = repair(dir_.path(), kNov23);
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->fixed.empty());
  EXPECT_EQ(snapshot_diff(before, snapshot(dir_.path())), "");
}

TEST_F(DataCheckTest, APostFiledUnderTheWrongDayIsReported) {
  make_healthy();
  write_text(day(kNov20), read_text(day(kNov20)) + lines_of(posts_on(kNov21, 1, "stray")));
  write_text(count(kNov20), "40");
  auto problems = check(dir_.path(), kNov23);
  const Problem* p = find(problems, day(kNov20), "not dated 2024/11/20");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->repairable);
  EXPECT_EQ(find(problems, count(kNov20), "says"), nullptr);  // the count is of the day's posts
}

TEST_F(DataCheckTest, ARealFileWhereALinkShouldBeIsReportedNotReplaced) {
  make_healthy();
  fs::remove(day(kNov23));
  write_text(day(kNov23), "");
  auto problems = check(dir_.path(), kNov23);
  const Problem* p = find(problems, day(kNov23), "a real file");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->repairable);
  ASSERT_TRUE(repair(dir_.path(), kNov23).is_ok());
  EXPECT_FALSE(fs::is_symlink(day(kNov23)));
}

}  // namespace
}  // namespace chaton::datacheck
