// Tests for moderation in the FileStore (remove_posts): one entry from the
// live log and from an archived day, posts of an address range across
// several days with and without a start time, a post both kept live and
// archived, unreadable lines kept byte for byte, today's symlinked day
// never written through, nothing rewritten when nothing matches, and the
// numbering (current.base, sequence) consistent when the store is opened
// again and appended to.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/archive_fixture.h"
#include "store/file_archive.h"
#include "store/file_store.h"
#include "store/post_selector.h"
#include "support/files.h"

namespace chaton {
namespace {

using namespace archive_test;
using testing::inode;

constexpr Date kNov20{2024, 11, 20};
constexpr Date kNov21{2024, 11, 21};
constexpr Date kNov22{2024, 11, 22};
constexpr const char* kSpammer = "198.51.100.9";
constexpr size_t kPostsPerOldDay = 6;
constexpr size_t kLivePosts = 40;
constexpr uint64_t kTotalPosts = 2 * kPostsPerOldDay + kLivePosts;

std::vector<Post> concat(std::initializer_list<std::vector<Post>> parts) {
  std::vector<Post> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

// Every third post of a day comes from the spammer's address.
std::vector<Post> day_posts(Date d, size_t n, const std::string& tag) {
  std::vector<Post> posts = posts_on(d, static_cast<int>(n), tag);
  for (size_t i = 0; i < posts.size(); i += 3) posts[i].ip = kSpammer;
  return posts;
}

std::vector<Post> without(std::vector<Post> posts, const PostSelector& s) {
  std::erase_if(posts, [&](const Post& p) { return s.matches(p); });
  return posts;
}

PostSelector entry_of(const Post& p) {
  PostSelector s;
  s.entry = EntryTime{p.sec, p.usec};
  return s;
}

PostSelector spammer(std::optional<int64_t> since = std::nullopt) {
  PostSelector s;
  s.addresses = [](std::string_view a) { return a.starts_with("198.51.100."); };
  s.since_unix = since;
  return s;
}

class ModerationTest : public ::testing::Test {
 protected:
  fs::path data() const { return dir_.path() / "data"; }
  fs::path current() const { return data() / "current.dat"; }
  fs::path day(Date d) const { return data() / (format_date_path(d) + ".dat"); }
  fs::path count(Date d) const { return data() / (format_date_path(d) + ".cnt"); }

  // Nov 20 and 21 archived (6 posts each), 40 posts of Nov 22 live; Nov 22
  // and 23 are links to current.dat. Posts are numbered 1..52.
  void build() {
    d20_ = day_posts(kNov20, kPostsPerOldDay, "twenty");
    d21_ = day_posts(kNov21, kPostsPerOldDay, "twenty-one");
    live_ = day_posts(kNov22, kLivePosts, "live");
    write_text(current(), lines_of(concat({d20_, d21_, live_})));
    FileStore store(dir_.path());
    ASSERT_TRUE(store.open().is_ok());
    auto r = store.archive(kNov22);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_EQ(r->kept_in_current, kLivePosts);
    ASSERT_TRUE(fs::is_symlink(day(kNov22)));
  }

  ModerationReport remove_ok(const PostSelector& s) {
    FileStore store(dir_.path());
    auto r = store.remove_posts(s);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? std::move(r).value() : ModerationReport{};
  }

  StoreSnapshot reopen() {
    FileStore store(dir_.path());
    auto snap = store.open();
    EXPECT_TRUE(snap.is_ok()) << snap.status().message();
    EXPECT_TRUE(snap->warnings.empty()) << snap->warnings.front();
    return snap.is_ok() ? std::move(snap).value() : StoreSnapshot{};
  }

  std::string stamp() { return FileStore(dir_.path()).change_stamp(); }

  TempDir dir_{"moderation"};
  std::vector<Post> d20_, d21_, live_;
};

TEST(PostSelectorTest, ParsesEntryIdsAsPermalinksShowThem) {
  auto e = parse_entry_id("entry-674a1b2c-1e240");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->sec, 0x674a1b2c);
  EXPECT_EQ(e->usec, 0x1e240);
  EXPECT_EQ(parse_entry_id("entry-674A1B2C-0a"), (EntryTime{0x674a1b2c, 10}));
  EXPECT_FALSE(parse_entry_id("674a1b2c-1e240").has_value());
  EXPECT_FALSE(parse_entry_id("entry-674a1b2c").has_value());
  EXPECT_FALSE(parse_entry_id("entry-674a1b2c-").has_value());
  EXPECT_FALSE(parse_entry_id("entry-xyz-10").has_value());
  EXPECT_FALSE(parse_entry_id("entry-1-f4240").has_value());  // 1000000 microseconds
}

TEST(PostSelectorTest, AnEmptySelectorMatchesNothing) {
  Post p = post_at(at(kNov20, 1), "x");
  EXPECT_FALSE(PostSelector{}.matches(p));
  Post old = p;
  old.ip.reset();
  EXPECT_FALSE(spammer().matches(old));  // no address: never in a range
}

TEST_F(ModerationTest, RemovesAnEntryFromTheLiveLogAndRenumbersTheRest) {
  build();
  const std::string stamp_before = stamp();
  const ino_t day20 = inode(day(kNov20));
  const size_t victim = 10;
  PostSelector s = entry_of(live_[victim]);

  ModerationReport r = remove_ok(s);

  EXPECT_EQ(r.removed_posts, 1u);
  EXPECT_EQ(r.removed_live, 1u);
  EXPECT_TRUE(r.removed_archived.empty());
  EXPECT_EQ(r.sequence_before, kTotalPosts);
  EXPECT_EQ(r.sequence_after, kTotalPosts - 1);
  EXPECT_EQ(read_text(current()), lines_of(without(live_, s)));  // the others byte for byte
  EXPECT_EQ(read_text(data() / "sequence"), std::to_string(kTotalPosts - 1));
  EXPECT_TRUE(fs::is_symlink(day(kNov22)));  // never written through
  EXPECT_EQ(fs::read_symlink(day(kNov22)).string(), "../../current.dat");
  EXPECT_EQ(inode(day(kNov20)), day20);  // other days untouched
  EXPECT_NE(stamp(), stamp_before);
  EXPECT_FALSE(fs::exists(data() / "current.dat.bak"));  // no copy of the removed text

  // Reopened: the posts before the removed one keep their numbers, the
  // later ones move down by one, and the next post follows on.
  StoreSnapshot snap = reopen();
  ASSERT_EQ(snap.recent.size(), kLivePosts - 1);
  EXPECT_EQ(snap.sequence, kTotalPosts - 1);
  const uint64_t base = kTotalPosts - kLivePosts;
  for (size_t i = 0; i < snap.recent.size(); ++i) EXPECT_EQ(snap.recent[i].seq, base + i + 1);
  EXPECT_EQ(snap.recent[victim - 1].text, live_[victim - 1].text);
  EXPECT_EQ(snap.recent[victim].text, live_[victim + 1].text);
  EXPECT_EQ(read_text(data() / "current.base").substr(read_text(data() / "current.base").find(' ') + 1),
            std::to_string(base));

  FileStore store(dir_.path());
  ASSERT_TRUE(store.open().is_ok());
  std::vector<Post> next{post_at(at(kNov22, 23, 59), "after moderation")};
  ASSERT_TRUE(store.append(next).is_ok());
  EXPECT_EQ(next[0].seq, kTotalPosts);
  EXPECT_EQ(reopen().recent.back().seq, kTotalPosts);
}

TEST_F(ModerationTest, RemovingTheNewestPostMovesLastPostBack) {
  build();
  ModerationReport r = remove_ok(entry_of(live_.back()));
  EXPECT_EQ(r.removed_live, 1u);
  EXPECT_EQ(read_text(data() / "last-post"), std::to_string(live_[live_.size() - 2].sec));
  EXPECT_EQ(reopen().last_post, live_[live_.size() - 2].sec);
}

TEST_F(ModerationTest, RemovesAnEntryFromAnArchivedDay) {
  build();
  const ino_t live = inode(current());
  const ino_t day21 = inode(day(kNov21));
  PostSelector s = entry_of(d20_[2]);

  ModerationReport r = remove_ok(s);

  EXPECT_EQ(r.removed_posts, 1u);
  EXPECT_EQ(r.removed_live, 0u);
  ASSERT_EQ(r.removed_archived.size(), 1u);
  EXPECT_EQ(r.removed_archived[0].date, kNov20);
  EXPECT_EQ(r.removed_archived[0].posts, 1u);
  EXPECT_EQ(read_text(day(kNov20)), lines_of(without(d20_, s)));
  EXPECT_EQ(read_text(count(kNov20)), std::to_string(kPostsPerOldDay - 1));
  EXPECT_EQ(inode(current()), live);  // the live log is not rewritten
  EXPECT_EQ(inode(day(kNov21)), day21);
  EXPECT_EQ(read_text(data() / "sequence"), std::to_string(kTotalPosts));
  EXPECT_EQ(reopen().sequence, kTotalPosts);

  FileStore store(dir_.path());
  auto posts = store.read_day(kNov20);
  ASSERT_TRUE(posts.is_ok());
  EXPECT_EQ(texts_of(*posts), texts_of(without(d20_, s)));
  auto days = store.days_in_month(2024, 11);
  ASSERT_FALSE(days.empty());
  EXPECT_EQ(days[0].posts, kPostsPerOldDay - 1);
}

TEST_F(ModerationTest, RemovesAPostThatIsBothLiveAndArchived) {
  // Ten posts of one day: archiving writes them to the day file and keeps
  // them in current.dat too (never fewer than 31 there).
  std::vector<Post> posts = posts_on(kNov20, 10, "few");
  write_text(current(), lines_of(posts));
  {
    FileStore store(dir_.path());
    ASSERT_TRUE(store.open().is_ok());
    ASSERT_TRUE(store.archive(kNov21).is_ok());
  }
  ASSERT_EQ(read_text(day(kNov20)), lines_of(posts));
  PostSelector s = entry_of(posts[4]);

  ModerationReport r = remove_ok(s);

  EXPECT_EQ(r.removed_posts, 1u);
  EXPECT_EQ(r.removed_live, 1u);
  ASSERT_EQ(r.removed_archived.size(), 1u);
  EXPECT_EQ(read_text(current()), lines_of(without(posts, s)));
  EXPECT_EQ(read_text(day(kNov20)), lines_of(without(posts, s)));
  EXPECT_EQ(read_text(count(kNov20)), "9");
  EXPECT_EQ(reopen().sequence, 9u);
}

TEST_F(ModerationTest, KeepsUnreadableLinesByteForByte) {
  build();
  const std::string garbage = "(this is not \"a post\n";
  const std::string crlf = encode_line(d20_[1]) + "\r\n";
  std::string day_text = encode_line(d20_[0]) + "\n" + garbage + crlf + "\n";
  for (size_t i = 2; i < d20_.size(); ++i) day_text += encode_line(d20_[i]) + "\n";
  write_text(day(kNov20), day_text);
  std::string live_text = garbage + lines_of(live_);
  write_text(current(), live_text);
  // current.dat was replaced by hand: numbered back from `sequence` again.
  const std::string victim_line = encode_line(d20_[3]) + "\n";
  const std::string live_victim_line = encode_line(live_[0]) + "\n";

  PostSelector s;
  s.addresses = [&](std::string_view a) { return a == *d20_[3].ip; };
  s.since_unix = d20_[3].sec;  // d20_[3] and every later post of its address
  ModerationReport r = remove_ok(s);

  ASSERT_FALSE(r.removed_archived.empty());
  std::string expected_day = day_text;
  expected_day.erase(expected_day.find(victim_line), victim_line.size());
  std::string after_day = read_text(day(kNov20));
  EXPECT_EQ(after_day, expected_day);
  EXPECT_NE(after_day.find(garbage), std::string::npos);
  EXPECT_NE(after_day.find(crlf), std::string::npos);
  EXPECT_EQ(after_day.find(victim_line), std::string::npos);
  for (const Post& p : d20_) {
    if (!s.matches(p)) {
      EXPECT_NE(after_day.find(encode_line(p)), std::string::npos) << p.text;
    }
  }
  EXPECT_TRUE(read_text(current()).starts_with(garbage));
  EXPECT_EQ(read_text(current()), garbage + lines_of(without(live_, s)));
}

TEST_F(ModerationTest, RemovesAnAddressOnEveryDay) {
  build();
  ModerationReport r = remove_ok(spammer());

  const size_t per_old_day = without(d20_, PostSelector{}).size() - without(d20_, spammer()).size();
  const size_t live = live_.size() - without(live_, spammer()).size();
  ASSERT_EQ(r.removed_archived.size(), 2u);
  EXPECT_EQ(r.removed_archived[0].date, kNov20);
  EXPECT_EQ(r.removed_archived[0].posts, per_old_day);
  EXPECT_EQ(r.removed_archived[1].date, kNov21);
  EXPECT_EQ(r.removed_live, live);
  EXPECT_EQ(r.removed_posts, 2 * per_old_day + live);
  EXPECT_EQ(read_text(day(kNov20)), lines_of(without(d20_, spammer())));
  EXPECT_EQ(read_text(day(kNov21)), lines_of(without(d21_, spammer())));
  EXPECT_EQ(read_text(count(kNov21)), std::to_string(kPostsPerOldDay - per_old_day));
  EXPECT_EQ(read_text(current()), lines_of(without(live_, spammer())));
  EXPECT_TRUE(fs::is_symlink(day(kNov22)));

  StoreSnapshot snap = reopen();
  EXPECT_EQ(snap.sequence, kTotalPosts - live);
  EXPECT_EQ(snap.recent.size(), kLivePosts - live);
  EXPECT_EQ(snap.recent.front().seq, kTotalPosts - kLivePosts + 1);
  EXPECT_EQ(snap.recent.back().seq, snap.sequence);
}

TEST_F(ModerationTest, RemovesAnAddressOnlyFromTheGivenTimeOn) {
  build();
  const ino_t day20 = inode(day(kNov20));
  const std::string day20_text = read_text(day(kNov20));
  PostSelector s = spammer(at(kNov21, 0));

  ModerationReport r = remove_ok(s);

  ASSERT_EQ(r.removed_archived.size(), 1u);
  EXPECT_EQ(r.removed_archived[0].date, kNov21);
  EXPECT_EQ(read_text(day(kNov20)), day20_text);
  EXPECT_EQ(inode(day(kNov20)), day20);
  EXPECT_EQ(read_text(day(kNov21)), lines_of(without(d21_, s)));
  EXPECT_EQ(read_text(current()), lines_of(without(live_, s)));

  // Later in the day only: the day's earlier spam stays.
  PostSelector late = spammer(live_[20].sec);
  ModerationReport r2 = remove_ok(late);
  EXPECT_TRUE(r2.removed_archived.empty());
  EXPECT_EQ(r2.removed_live, 0u);  // those were gone already
}

TEST_F(ModerationTest, NothingMatchingChangesNothing) {
  build();
  auto before = snapshot(dir_.path());
  PostSelector s;
  s.entry = EntryTime{at(kNov21, 12), 42};
  ModerationReport r = remove_ok(s);
  EXPECT_FALSE(r.removed_any());
  EXPECT_EQ(r.removed_posts, 0u);
  PostSelector nobody;
  nobody.addresses = [](std::string_view a) { return a == "203.0.113.1"; };
  EXPECT_FALSE(remove_ok(nobody).removed_any());
  EXPECT_EQ(snapshot_diff(before, snapshot(dir_.path())), "");
}

TEST_F(ModerationTest, AnEmptySelectorIsRefused) {
  build();
  FileStore store(dir_.path());
  auto r = store.remove_posts(PostSelector{});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::invalid);
}

TEST_F(ModerationTest, AMissingDataDirectoryIsNotFound) {
  FileStore store(dir_.path() / "nowhere");
  auto r = store.remove_posts(spammer());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::not_found);
}

TEST_F(ModerationTest, AnOpenStoreSeesTheChangeStamp) {
  build();
  FileStore server(dir_.path());
  ASSERT_TRUE(server.open().is_ok());
  const std::string seen = server.change_stamp();
  remove_ok(entry_of(live_[0]));
  EXPECT_NE(server.change_stamp(), seen);
  const std::string once = server.change_stamp();
  remove_ok(entry_of(live_[1]));
  EXPECT_NE(server.change_stamp(), once);
}

}  // namespace
}  // namespace chaton
