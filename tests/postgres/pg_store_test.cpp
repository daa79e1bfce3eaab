// PgStore and the schema over a real PostgreSQL (a throw-away cluster the
// tests start: tests/support/pg_cluster.h), one fresh database per test.
#include "postgres/pg_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "postgres/drafts.h"
#include "postgres/schema.h"
#include "store/post_selector.h"
#include "support/pg_cluster.h"
#include "util/civil_time.h"

namespace chaton::postgres {
namespace {

using chaton::testing::PgCluster;

SysTime at(Date d, int hour = 12) {
  return SysTime{std::chrono::seconds(seconds_from_date(d) + hour * 3600)};
}

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHATON_REQUIRE_PG();
    url_ = PgCluster::shared().fresh_database("store");
    PgConnection c(url_);
    auto m = migrate(c);
    ASSERT_TRUE(m) << m.status().message();
  }
  std::unique_ptr<PgStore> store(std::string slug = "lobby", std::string node = "a") {
    return std::make_unique<PgStore>(url_, std::move(slug), std::move(node), clock_);
  }
  Status append(PgStore& s, std::vector<Post> posts) {
    Status st = s.append(posts);
    last_ = posts;
    return st;
  }

  std::string url_;
  ManualClock clock_{at(Date{2026, 11, 30})};
  std::vector<Post> last_;
};

TEST(PgSchemaTest, MigratesOnceAndRefusesANewerSchema) {
  CHATON_REQUIRE_PG();
  const std::string url = PgCluster::shared().fresh_database("schema");
  PgConnection c(url);
  auto first = migrate(c);
  ASSERT_TRUE(first) << first.status().message();
  EXPECT_EQ(*first, 0);
  auto again = migrate(c);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, schema_version());
  ASSERT_TRUE(c.exec("INSERT INTO chaton_schema VALUES (" + std::to_string(schema_version() + 1) + ")"));
  auto newer = migrate(c);
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.status().message().find("upgrade chaton"), std::string::npos) << newer.status().message();
}

TEST(PgSchemaTest, NodesStartingAtOnceMigrateOnce) {
  CHATON_REQUIRE_PG();
  const std::string url = PgCluster::shared().fresh_database("schema_race");
  std::vector<std::thread> nodes;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i)
    nodes.emplace_back([&] {
      PgConnection c(url);
      if (!migrate(c)) ++failures;
    });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(failures.load(), 0);
  PgConnection c(url);
  auto rows = c.exec("SELECT count(*) FROM chaton_schema");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->int64(0, 0), schema_version());
}

TEST_F(PgStoreTest, AnEmptyRoomOpensEmpty) {
  auto s = store();
  auto snap = s->open();
  ASSERT_TRUE(snap) << snap.status().message();
  EXPECT_EQ(snap->sequence, 0u);
  EXPECT_EQ(snap->last_post, 0);
  EXPECT_TRUE(snap->recent.empty());
  EXPECT_TRUE(s->shared());
}

TEST_F(PgStoreTest, AppendNumbersPostsAndKeepsEveryField) {
  auto s = store();
  ASSERT_TRUE(s->open());
  int64_t t = to_stamp(clock_.now()).sec;
  std::vector<Post> batch = {
      draft("alice", "plain", t, 1),
      draft("b\"o\\b", "{braces}, \"quotes\", back\\slash,\nnew line and NULL", t, 2),
      draft("猫", "日本語のテキスト", t + 1, 3, std::nullopt),
      draft("empty text", "", t + 1, 4, "2001:db8::1"),
  };
  ASSERT_TRUE(append(*s, batch));
  for (size_t i = 0; i < last_.size(); ++i) EXPECT_EQ(last_[i].seq, i + 1);
  auto back = s->read_after(0, 0, 100);
  ASSERT_TRUE(back) << back.status().message();
  EXPECT_EQ(*back, last_);

  auto reopened = store()->open();
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->sequence, 4u);
  EXPECT_EQ(reopened->last_post, t + 1);
  EXPECT_EQ(reopened->recent, last_);

  auto part = s->read_after(1, 3, 100);
  ASSERT_TRUE(part);
  ASSERT_EQ(part->size(), 2u);
  EXPECT_EQ((*part)[0].seq, 2u);
  EXPECT_EQ((*part)[1].seq, 3u);
  auto limited = s->read_after(0, 0, 1);
  ASSERT_TRUE(limited);
  ASSERT_EQ(limited->size(), 1u);
}

TEST_F(PgStoreTest, TwoNodesAppendingAtOnceShareOneGaplessSequence) {
  auto a = store("lobby", "a");
  auto b = store("lobby", "b");
  ASSERT_TRUE(a->open());
  ASSERT_TRUE(b->open());
  int64_t t = to_stamp(clock_.now()).sec;
  constexpr int kBatches = 40;
  std::vector<uint64_t> seen_a, seen_b;
  auto run = [&](PgStore& s, std::string nick, std::vector<uint64_t>& seen) {
    for (int i = 0; i < kBatches; ++i) {
      std::vector<Post> batch = {draft(nick, std::to_string(i), t, i), draft(nick, std::to_string(i), t, i)};
      ASSERT_TRUE(s.append(batch));
      for (const Post& p : batch) seen.push_back(p.seq);
    }
  };
  std::thread ta([&] { run(*a, "a", seen_a); });
  std::thread tb([&] { run(*b, "b", seen_b); });
  ta.join();
  tb.join();
  std::vector<uint64_t> all = seen_a;
  all.insert(all.end(), seen_b.begin(), seen_b.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 4u * kBatches);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);
  // Each node reads the other's posts in the one order.
  auto from_a = a->read_after(0, 0, 1000);
  auto from_b = b->read_after(0, 0, 1000);
  ASSERT_TRUE(from_a);
  ASSERT_TRUE(from_b);
  EXPECT_EQ(*from_a, *from_b);
  EXPECT_EQ(from_a->size(), all.size());
}

TEST_F(PgStoreTest, RoomsAreApart) {
  auto lobby = store("lobby");
  auto other = store("other");
  ASSERT_TRUE(lobby->open());
  ASSERT_TRUE(other->open());
  int64_t t = to_stamp(clock_.now()).sec;
  ASSERT_TRUE(append(*lobby, {draft("a", "x", t)}));
  ASSERT_TRUE(append(*other, {draft("b", "y", t), draft("b", "z", t)}));
  EXPECT_EQ(last_.back().seq, 2u);
  auto o = other->open();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->sequence, 2u);
  auto l = lobby->read_after(0, 0, 10);
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].text, "x");
}

TEST_F(PgStoreTest, DaysMonthsAndTheDaysPosts) {
  auto s = store();
  ASSERT_TRUE(s->open());
  Date oct31{2026, 10, 31}, nov1{2026, 11, 1}, nov30{2026, 11, 30};
  int64_t a = seconds_from_date(oct31) + 86399, b = seconds_from_date(nov1), c = seconds_from_date(nov30) + 5;
  ASSERT_TRUE(append(*s, {draft("n", "late on the 31st", a), draft("n", "first of november", b)}));
  ASSERT_TRUE(append(*s, {draft("n", "again", b + 60), draft("n", "today", c)}));

  auto day = s->read_day(nov1);
  ASSERT_TRUE(day) << day.status().message();
  ASSERT_EQ(day->size(), 2u);
  EXPECT_EQ((*day)[0].text, "first of november");
  EXPECT_EQ((*day)[1].text, "again");
  auto none = s->read_day(Date{2026, 11, 2});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.status().code(), Errc::not_found);

  auto nov = s->days_in_month(2026, 11);
  ASSERT_EQ(nov.size(), 2u);
  EXPECT_EQ(nov[0].date, nov1);
  EXPECT_EQ(nov[0].posts, 2u);
  EXPECT_EQ(nov[1].date, nov30);
  EXPECT_EQ(nov[1].posts, 1u);
  auto oct = s->days_in_month(2026, 10);
  ASSERT_EQ(oct.size(), 1u);
  EXPECT_EQ(oct[0].date, oct31);
  EXPECT_EQ(s->months(), (std::vector<std::pair<int, int>>{{2026, 10}, {2026, 11}}));
}

TEST_F(PgStoreTest, TheLiveWindowIsTodayAndAtLeastTheLast31) {
  auto s = store();
  ASSERT_TRUE(s->open());
  Date yesterday{2026, 11, 29};
  std::vector<Post> old;
  for (int i = 0; i < 40; ++i)
    old.push_back(draft("n", "old " + std::to_string(i), seconds_from_date(yesterday) + i));
  ASSERT_TRUE(append(*s, old));
  // Only yesterday's posts: the last 31 of them.
  auto snap = store()->open();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->recent.size(), kMinPostsKept);
  EXPECT_EQ(snap->recent.front().seq, 40u - kMinPostsKept + 1);
  EXPECT_EQ(snap->recent.back().seq, 40u);
  auto kept = s->archive(Date{2026, 11, 30});
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->kept_in_current, kMinPostsKept);

  // With more than 31 posts today, every one of today's.
  std::vector<Post> today;
  int64_t t = to_stamp(clock_.now()).sec;
  for (int i = 0; i < 35; ++i) today.push_back(draft("n", "new " + std::to_string(i), t + i));
  ASSERT_TRUE(append(*s, today));
  snap = store()->open();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->recent.size(), 35u);
  EXPECT_EQ(snap->recent.front().text, "new 0");
  EXPECT_EQ(snap->recent.front().seq, 41u);
}

TEST_F(PgStoreTest, EachNodeCountsTheOthersFreshChatters) {
  auto a = store("lobby", "a");
  auto b = store("lobby", "b");
  auto c = store("lobby", "c");
  a->record_num_chatters(2);
  b->record_num_chatters(1);
  c->record_num_chatters(7);
  EXPECT_EQ(a->chatters_elsewhere(std::chrono::seconds(10)), 8u);
  EXPECT_EQ(b->chatters_elsewhere(std::chrono::seconds(10)), 9u);
  // A node that stopped recording (killed) drops out after `fresh`.
  PgConnection db(url_);
  ASSERT_TRUE(db.exec("UPDATE chaton_chatters SET seen = now() - interval '1 minute' WHERE node = 'c'"));
  EXPECT_EQ(a->chatters_elsewhere(std::chrono::seconds(10)), 1u);
  EXPECT_EQ(store("other", "b")->chatters_elsewhere(std::chrono::seconds(10)), 0u);
}

// A cid one node gave out is known to the others for a day, with the
// numbering it was given in (docs/SCALING.md, "Moderation").
TEST_F(PgStoreTest, EveryNodeKnowsTheCidsAnotherGaveOutAndTheirNumbering) {
  auto a = store("lobby", "a");
  auto b = store("lobby", "b");
  const std::vector<IssuedCid> cids{{11, "3"}, {12, ""}};
  ASSERT_TRUE(a->announce_cids(cids));
  auto k = b->cid_known(11);
  ASSERT_TRUE(k) << k.status().message();
  EXPECT_EQ(*k, std::optional<std::string>("3"));
  EXPECT_EQ(*b->cid_known(12), std::optional<std::string>("")) << "known, numbering not said";
  EXPECT_EQ(*b->cid_known(13), std::nullopt);
  EXPECT_EQ(*store("other", "b")->cid_known(11), std::nullopt);
  // Given out again (renewed elsewhere, or told again): the newer numbering.
  const std::vector<IssuedCid> again{{11, "4"}};
  ASSERT_TRUE(b->announce_cids(again));
  EXPECT_EQ(*a->cid_known(11), std::optional<std::string>("4"));
  PgConnection db(url_);
  ASSERT_TRUE(db.exec("UPDATE chaton_cids SET issued = now() - interval '2 days' WHERE cid = 12"));
  EXPECT_EQ(*a->cid_known(12), std::nullopt) << "forgotten after a day";
}

// Nodes starting at once on a fresh database each register the room; the
// one that waits on another's registration must still find the room (a
// stamp it cannot read would make its room reload, and start its readers
// over, the first time it checks).
TEST_F(PgStoreTest, ARoomAnotherNodeRegistersMeanwhileIsFound) {
  PgConnection other(url_);
  ASSERT_TRUE(other.exec("BEGIN"));
  ASSERT_TRUE(other.exec("INSERT INTO chaton_rooms (slug) VALUES ('lobby')"));
  auto s = store();
  std::string stamp = "unread";
  std::thread node([&] { stamp = s->change_stamp(); });
  // Until the store's registration waits on the other's (a lock wait).
  PgConnection watch(url_);
  bool waiting = false;
  for (int i = 0; i < 2000 && !waiting; ++i) {
    auto r = watch.exec(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = "
        "'Lock'");
    ASSERT_TRUE(r);
    waiting = r->int64(0, 0) > 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(other.exec("COMMIT"));
  node.join();
  ASSERT_TRUE(waiting) << "the store's registration never waited on the other";
  EXPECT_EQ(stamp, "0");
  auto snap = s->open();
  ASSERT_TRUE(snap) << snap.status().message();
}

TEST_F(PgStoreTest, ModerationRemovesRenumbersAndMovesTheStamp) {
  auto s = store();
  ASSERT_TRUE(s->open());
  Date nov29{2026, 11, 29}, nov30{2026, 11, 30};
  int64_t a = seconds_from_date(nov29), b = seconds_from_date(nov30);
  ASSERT_TRUE(append(*s, {draft("n", "one", a, 1, "192.0.2.7"), draft("n", "two", a, 2, "198.51.100.1"),
                          draft("n", "three", b, 3, "192.0.2.8"), draft("n", "four", b, 4, std::nullopt),
                          draft("n", "five", b, 5, "198.51.100.2")}));
  std::string stamp = s->change_stamp();

  PostSelector one;
  one.entry = EntryTime{a, 2};
  auto r = s->remove_posts(one);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->removed_posts, 1u);
  EXPECT_EQ(r->sequence_before, 5u);
  EXPECT_EQ(r->sequence_after, 4u);
  EXPECT_NE(s->change_stamp(), stamp);
  auto all = s->read_after(0, 0, 100);
  ASSERT_TRUE(all);
  std::vector<std::pair<uint64_t, std::string>> seen;
  for (const Post& p : *all) seen.emplace_back(p.seq, p.text);
  EXPECT_EQ(seen, (std::vector<std::pair<uint64_t, std::string>>{
                      {1, "one"}, {2, "three"}, {3, "four"}, {4, "five"}}));
  EXPECT_EQ(s->days_in_month(2026, 11)[0].posts, 1u);

  // An address range from a moment on; posts without an address never match.
  PostSelector range;
  range.addresses = [](std::string_view ip) { return ip.starts_with("192.0.2."); };
  range.since_unix = b;
  r = s->remove_posts(range);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->removed_posts, 1u);  // "three"; "one" is before since
  all = s->read_after(0, 0, 100);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].text, "four");
  EXPECT_EQ((*all)[1].seq, 2u);
  auto snap = store()->open();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->sequence, 3u);
  // The next post follows on from the new sequence.
  ASSERT_TRUE(append(*s, {draft("n", "six", b + 9)}));
  EXPECT_EQ(last_.back().seq, 4u);

  PostSelector nothing;
  nothing.entry = EntryTime{1, 1};
  r = s->remove_posts(nothing);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->removed_any());
}

// GET /healthz and the sync histogram (docs/DEPLOY.md, "Monitoring").
TEST_F(PgStoreTest, IsWritableWhileTheDatabaseAnswersAndTimesEachAppend) {
  auto s = store();
  auto syncs = std::make_shared<metrics::Histogram>();
  s->measure_syncs(syncs);
  ASSERT_TRUE(s->open());
  EXPECT_TRUE(s->writable());
  int64_t t = to_stamp(clock_.now()).sec;
  ASSERT_TRUE(append(*s, {draft("alice", "one", t, 1), draft("bob", "two", t, 2)}));
  ASSERT_TRUE(append(*s, {draft("alice", "three", t, 3)}));
  EXPECT_EQ(syncs->count(), 2u);  // one statement per batch
}

TEST(PgStoreUnreachableTest, IsNotWritable) {
  ManualClock clock;
  PgStore s("postgresql://chaton@127.0.0.1:1/chaton", "lobby", "a", clock);  // nothing listens there
  ::testing::internal::CaptureStderr();
  Status st = s.writable();
  ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(st);
  EXPECT_EQ(st.code(), Errc::unavailable);
}

TEST(PgStoreUnreachableTest, AppendFailsWithUnavailableAndNamesNoPassword) {
  ManualClock clock;
  // A port nothing listens on.
  PgStore s("postgresql://chaton@127.0.0.1:1/chaton", "lobby", "a", clock);
  std::vector<Post> batch = {draft("a", "b", 1)};
  Status st = s.append(batch);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), Errc::unavailable);
  // The client's reason names no server; the log has the details.
  EXPECT_EQ(st.message().find("127.0.0.1"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("unreachable"), std::string::npos) << st.message();
  EXPECT_EQ(batch[0].seq, 0u);
  auto snap = s.open();
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.status().code(), Errc::unavailable);
}

TEST(PgUrlTest, APasswordInTheUrlIsRefused) {
  EXPECT_TRUE(check_url("postgresql://chaton@db:5432/chaton"));
  EXPECT_TRUE(check_url("postgresql:///chaton?host=/run/postgresql"));
  Status pw = check_url("postgresql://chaton:secret@db/chaton");
  ASSERT_FALSE(pw);
  EXPECT_EQ(pw.message().find("secret"), std::string::npos);
  EXPECT_NE(pw.message().find("PGPASSFILE"), std::string::npos);
  EXPECT_FALSE(check_url("mysql://db/chaton"));
  EXPECT_FALSE(check_url("postgresql://db/chaton?nonsense=1"));
  EXPECT_EQ(describe_url("postgresql://chaton@db:5433/rooms"), "db:5433/rooms");
}

TEST(PgTextArrayTest, QuotesAndEscapesEveryElement) {
  EXPECT_EQ(text_array({}), "{}");
  EXPECT_EQ(text_array({std::string("a"), std::nullopt, std::string("b\"c\\d"), std::string("")}),
            R"({"a",NULL,"b\"c\\d",""})");
}

}  // namespace
}  // namespace chaton::postgres
