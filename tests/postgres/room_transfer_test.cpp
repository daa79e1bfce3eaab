// Moving a room between the file store and PostgreSQL (room_transfer.h)
// over a real PostgreSQL (tests/support/pg_cluster.h), one fresh database
// per test.
#include "postgres/room_transfer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "messages/line_codec.h"
#include "postgres/drafts.h"
#include "postgres/pg_store.h"
#include "postgres/schema.h"
#include "store/file_io.h"
#include "store/file_store.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"
#include "util/civil_time.h"
#include "util/file.h"

namespace chaton::postgres {
namespace {

namespace fs = std::filesystem;
using chaton::testing::PgCluster;
using chaton::testing::TempDir;

int64_t at(Date d, int hour, int minute = 0) { return seconds_from_date(d) + hour * 3600 + minute * 60; }

// Posts of every kind a line holds: with and without an address, Japanese,
// quotes, backslashes, newlines, tabs and other control characters.
std::vector<Post> posts_of_day(Date day, int count) {
  static const std::vector<std::string> texts = {
      "hello",      "日本語のテキストです",    "a \"quoted\" word", "back\\slash \\n not a newline",
      "two\nlines", "tab\there\r\x01 control", "絵文字 🎉",          "(\"looks\" (like 1 2) \"a line\")"};
  std::vector<Post> out;
  for (int i = 0; i < count; ++i) {
    std::optional<std::string> ip;
    if (i % 3 == 1)
      ip = "2001:db8::" + std::to_string(i);
    else if (i % 3 == 2)
      ip = "192.0.2." + std::to_string(i);
    out.push_back(draft(i % 2 ? "しろ" : "kuro \"k\"",
                        texts[static_cast<size_t>(i) % texts.size()] + " " + std::to_string(i),
                        at(day, 1) + i * 97, i * 1000 + 7, ip));
  }
  return out;
}

void append(FileStore& store, std::vector<Post> posts) {
  Status st = store.append(posts);
  ASSERT_TRUE(st) << st.message();
}

// Every file under DATADIR/data the two layouts share: content, or a
// link's target. current.base names a device and inode, so it is compared
// by its number (read_current_base); the archiver's current.dat.bak is no
// part of the room.
std::map<std::string, std::string> files_of(const fs::path& room_dir) {
  std::map<std::string, std::string> out;
  const fs::path data = room_dir / "data";
  for (auto it = fs::recursive_directory_iterator(data); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = it->path().lexically_relative(data).string();
    if (rel == "current.base" || rel == "current.dat.bak") continue;
    if (it->is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_regular_file()) {
      auto content = read_file(it->path());
      out[rel] = content ? *content : "(unreadable)";
    }
  }
  return out;
}

// A file's content, "?" when it cannot be read.
std::string text_of(const fs::path& path) {
  auto r = read_file(path);
  return r ? *r : "?";
}

// A day's posts; none for a day with nothing.
std::vector<Post> or_none(const Result<std::vector<Post>>& r) { return r ? *r : std::vector<Post>{}; }

uint64_t base_of(const fs::path& room_dir) {
  auto base = fileio::read_current_base(room_dir / "data" / fileio::kBaseName,
                                        room_dir / "data" / fileio::kCurrentName);
  return base.value_or(~uint64_t{0});
}

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHATON_REQUIRE_PG();
    url_ = PgCluster::shared().fresh_database("transfer");
    db_ = std::make_unique<PgConnection>(url_);
    auto m = migrate(*db_);
    ASSERT_TRUE(m) << m.status().message();
  }

  int64_t count(const std::string& sql) {
    auto r = db_->exec(sql);
    EXPECT_TRUE(r) << r.status().message();
    return r ? r->int64(0, 0) : -1;
  }

  // A file-store room archived over several days, as the server's archiver
  // leaves it, with posts of `today` after the archiving.
  void build_file_room(const fs::path& dir) {
    FileStore store(dir);
    ASSERT_TRUE(store.open());
    append(store, posts_of_day(Date{2026, 11, 20}, 40));
    ASSERT_TRUE(store.archive(Date{2026, 11, 21}));
    // 11/21 is quiet: the next archiving writes it empty.
    append(store, posts_of_day(Date{2026, 11, 22}, 12));
    ASSERT_TRUE(store.archive(Date{2026, 11, 23}));
    append(store, posts_of_day(today_, 5));
  }

  std::string url_;
  std::unique_ptr<PgConnection> db_;
  const Date today_{2026, 11, 23};
};

TEST_F(TransferTest, FileRoomRoundTripGivesTheSameFilesByteForByte) {
  TempDir source, target;
  build_file_room(source.path());
  auto imported = import_room(*db_, "lobby", source.path());
  ASSERT_TRUE(imported) << imported.status().message();
  EXPECT_EQ(imported->posts, 57u);
  EXPECT_EQ(imported->sequence, 57u);
  EXPECT_EQ(imported->kept_in_both, 31u);  // the live log's last posts of archived days
  EXPECT_TRUE(imported->notes.empty()) << imported->notes.front();
  EXPECT_EQ(count("SELECT count(*) FROM chaton_posts"), 57);
  EXPECT_EQ(count("SELECT sequence FROM chaton_rooms WHERE slug = 'lobby'"), 57);
  EXPECT_EQ(count("SELECT posts FROM chaton_days WHERE day = date '2026-11-20'"), 40);
  EXPECT_EQ(count("SELECT count(DISTINCT seq) FROM chaton_posts WHERE seq BETWEEN 1 AND 57"), 57);

  auto exported = export_room(*db_, "lobby", target.path(), today_);
  ASSERT_TRUE(exported) << exported.status().message();
  EXPECT_EQ(exported->days, 3u);  // 11/20, the quiet 11/21, 11/22
  auto want = files_of(source.path());
  auto got = files_of(target.path());
  ASSERT_TRUE(want.contains("2026/11/21.dat"));
  EXPECT_EQ(want.at("2026/11/21.dat"), "");
  std::string names;
  for (const auto& [name, content] : want) names += name + " ";
  ASSERT_TRUE(want.contains("2026/11/23.dat")) << names;  // today's link
  for (const auto& [name, content] : want) {
    ASSERT_TRUE(got.contains(name)) << name << " is missing from the export";
    EXPECT_EQ(got.at(name), content) << name;
  }
  for (const auto& [name, content] : got) EXPECT_TRUE(want.contains(name)) << name << " is extra";
  EXPECT_EQ(base_of(target.path()), base_of(source.path()));

  // And the file store reads both alike: the same window with the same seqs.
  FileStore a(source.path()), b(target.path());
  auto sa = a.open();
  auto sb = b.open();
  ASSERT_TRUE(sa && sb);
  EXPECT_EQ(sa->recent, sb->recent);
  EXPECT_EQ(sa->sequence, sb->sequence);
  EXPECT_EQ(sa->last_post, sb->last_post);
}

TEST_F(TransferTest, ImportKeepsTheFileStoresNumbersAndDatabaseRoomReadsAlike) {
  TempDir source;
  build_file_room(source.path());
  // A sequence beyond the posts (posts removed long ago): the live log is
  // numbered back from it, the older posts before them.
  ASSERT_TRUE(fileio::replace_file(source.path() / "data" / "sequence", "100"));
  ASSERT_TRUE(fs::remove(source.path() / "data" / "current.base"));
  FileStore files(source.path());
  auto fsnap = files.open();
  ASSERT_TRUE(fsnap);
  ASSERT_EQ(fsnap->sequence, 100u);

  auto imported = import_room(*db_, "lobby", source.path());
  ASSERT_TRUE(imported) << imported.status().message();
  EXPECT_EQ(imported->sequence, 100u);
  ManualClock clock(SysTime{std::chrono::seconds(at(today_, 12))});
  PgStore pg(url_, "lobby", "a", clock);
  auto psnap = pg.open();
  ASSERT_TRUE(psnap) << psnap.status().message();
  EXPECT_EQ(psnap->sequence, 100u);
  EXPECT_EQ(psnap->last_post, fsnap->last_post);
  // The database's window is the file store's or its newest part, with the
  // same seqs.
  ASSERT_FALSE(psnap->recent.empty());
  ASSERT_LE(psnap->recent.size(), fsnap->recent.size());
  EXPECT_TRUE(std::equal(psnap->recent.begin(), psnap->recent.end(),
                         fsnap->recent.end() - static_cast<std::ptrdiff_t>(psnap->recent.size())));
  // The oldest posts are numbered back from the live log's first.
  EXPECT_EQ(count("SELECT min(seq) FROM chaton_posts"), 100 - 57 + 1);
  for (Date d : {Date{2026, 11, 20}, Date{2026, 11, 22}, today_}) {
    auto from_files = files.read_day(d);
    auto from_db = pg.read_day(d);
    ASSERT_TRUE(from_files && from_db) << format_date_path(d);
    EXPECT_EQ(*from_db, *from_files) << format_date_path(d);
  }
  EXPECT_EQ(pg.days_in_month(2026, 11).size(), files.days_in_month(2026, 11).size());
}

TEST_F(TransferTest, ImportIntoARoomWithPostsIsRefusedAndWritesNothing) {
  TempDir source;
  build_file_room(source.path());
  ASSERT_TRUE(import_room(*db_, "lobby", source.path()));
  auto again = import_room(*db_, "lobby", source.path());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.status().code(), Errc::invalid);
  EXPECT_NE(again.status().message().find("already has 57 posts"), std::string::npos)
      << again.status().message();
  EXPECT_EQ(count("SELECT count(*) FROM chaton_posts"), 57);
  EXPECT_EQ(count("SELECT sequence FROM chaton_rooms WHERE slug = 'lobby'"), 57);
  // Another slug is another room.
  ASSERT_TRUE(import_room(*db_, "other", source.path()));
  EXPECT_EQ(count("SELECT count(*) FROM chaton_posts"), 114);
}

TEST_F(TransferTest, ImportSaysWhichLinesAnExportWritesAnew) {
  TempDir source;
  build_file_room(source.path());
  // A line with a two-digit escape, extra spaces and a fifth element is not
  // in Chaton's own form (it stands in for the day's first post, which the
  // live log does not keep).
  fs::path day = source.path() / "data" / "2026" / "11" / "20.dat";
  auto content = read_file(day);
  ASSERT_TRUE(content);
  std::string odd =
      "(\"old\"  (" + std::to_string(at(Date{2026, 11, 20}, 0)) + " 5) \"\\x41\" \"192.0.2.9\" x)";
  ASSERT_TRUE(fileio::replace_file(day, odd + content->substr(content->find('\n'))));
  auto imported = import_room(*db_, "lobby", source.path());
  ASSERT_TRUE(imported) << imported.status().message();
  ASSERT_EQ(imported->notes.size(), 1u);
  EXPECT_NE(imported->notes[0].find("20.dat"), std::string::npos) << imported->notes[0];
  auto r = db_->exec("SELECT text FROM chaton_posts WHERE nick = 'old'");
  ASSERT_TRUE(r && r->rows() == 1);
  EXPECT_EQ(r->text(0, 0), "A");
}

TEST_F(TransferTest, ExportOfADatabaseRoomReadsBackWithTheFileStore) {
  ManualClock clock(SysTime{std::chrono::seconds(at(today_, 12))});
  PgStore pg(url_, "lobby", "a", clock);
  ASSERT_TRUE(pg.open());
  for (Date d : {Date{2026, 11, 19}, Date{2026, 11, 21}, today_}) {
    std::vector<Post> batch = posts_of_day(d, d == today_ ? 3 : 25);
    Status st = pg.append(batch);
    ASSERT_TRUE(st) << st.message();
  }
  TempDir target;
  auto exported = export_room(*db_, "lobby", target.path(), today_);
  ASSERT_TRUE(exported) << exported.status().message();
  EXPECT_EQ(exported->days, 4u);  // 11/19 to 11/22, two of them quiet
  EXPECT_EQ(exported->sequence, 53u);
  // Today's 3 and the 31 before today.
  EXPECT_EQ(exported->kept_in_current, 34u);

  FileStore files(target.path());
  auto fsnap = files.open();
  ASSERT_TRUE(fsnap) << fsnap.status().message();
  auto psnap = pg.open();
  ASSERT_TRUE(psnap);
  EXPECT_EQ(fsnap->sequence, 53u);
  EXPECT_EQ(fsnap->last_post, psnap->last_post);
  ASSERT_FALSE(fsnap->recent.empty());
  EXPECT_EQ(fsnap->recent.back(), psnap->recent.back());
  auto rest = pg.read_after(53 - fsnap->recent.size(), 0, 100);
  ASSERT_TRUE(rest);
  EXPECT_EQ(fsnap->recent, *rest);  // the seqs the database gave
  // (A quiet day is an empty day file, or nothing in the database.)
  for (Date d = Date{2026, 11, 18}; d <= next_day(today_); d = next_day(d)) {
    auto from_files = files.read_day(d);
    auto from_db = pg.read_day(d);
    EXPECT_EQ(or_none(from_files), or_none(from_db)) << format_date_path(d);
  }
  EXPECT_EQ(files.days_in_month(2026, 11).size(), pg.days_in_month(2026, 11).size());
  EXPECT_EQ(text_of(target.path() / "data" / "2026" / "11" / "20.cnt"), "0");
}

TEST_F(TransferTest, ExportReplacesOnlyWhatItMayReplace) {
  ManualClock clock(SysTime{std::chrono::seconds(at(today_, 12))});
  PgStore pg(url_, "lobby", "a", clock);
  ASSERT_TRUE(pg.open());
  std::vector<Post> batch = posts_of_day(Date{2026, 11, 22}, 4);
  ASSERT_TRUE(pg.append(batch));

  TempDir target, other;
  ASSERT_TRUE(export_room(*db_, "lobby", target.path(), today_));
  // A second export over the first: refused by default, allowed as an
  // earlier copy of the room (what `chaton archive` does), and then it
  // writes nothing that is already so.
  auto refused = export_room(*db_, "lobby", target.path(), today_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Errc::invalid);
  batch = posts_of_day(today_, 2);
  ASSERT_TRUE(pg.append(batch));
  auto again = export_room(*db_, "lobby", target.path(), next_day(today_), Overwrite::earlier_copy);
  ASSERT_TRUE(again) << again.status().message();
  EXPECT_EQ(again->days, 2u);
  EXPECT_EQ(again->days_written, 1u);  // only 11/23 is new
  EXPECT_EQ(text_of(target.path() / "data" / "2026" / "11" / "23.cnt"), "2");

  // A file-store room that was never imported is not an earlier copy.
  build_file_room(other.path());
  auto before = files_of(other.path());
  auto kept = export_room(*db_, "lobby", other.path(), today_, Overwrite::earlier_copy);
  ASSERT_FALSE(kept);
  EXPECT_EQ(kept.status().code(), Errc::invalid);
  EXPECT_EQ(files_of(other.path()), before);
  auto forced = export_room(*db_, "lobby", other.path(), today_, Overwrite::always);
  ASSERT_TRUE(forced) << forced.status().message();
  EXPECT_EQ(text_of(other.path() / "data" / "sequence"), "6");

  auto missing = export_room(*db_, "nobody", target.path(), today_, Overwrite::always);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), Errc::not_found);
}

}  // namespace
}  // namespace chaton::postgres
