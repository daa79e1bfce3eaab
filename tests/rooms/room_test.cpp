// Tests for Room: posting (validation, blacklist, commit), reading deltas in
// the three packet formats with their shared fragments, waiting readers,
// client admission and sweeping, the RSS cache and the window limit.
// The store is a FakeStore and time a ManualClock; the only real waits are
// bounded hand-overs from the commit thread.
#include "rooms/room.h"
#include "rooms/room_helpers.h"
#include "support/temp_dir.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rooms/fake_store.h"
#include "support/posts.h"

namespace chaton {
namespace {

using testing::make_post;

using testing::CountingWaiter;
using testing::texts;

namespace fs = std::filesystem;
namespace json = boost::json;
using rooms_test::FakeStore;
using rooms_test::kHandoverTimeout;
using rooms_test::make_snapshot;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kStart = 1732460000;  // the clock's start; later than every snapshot post
constexpr const char* kRoomUrl = "http://chat.example/lobby/";
constexpr const char* kIp = "192.0.2.1";

using testing::TempDir;  // tests/support/temp_dir.h

// The result of an asynchronous post, waited for with a bound.
class PostOutcome {
 public:
  CommitQueue::Done done() {
    return [this](Result<Post> r) {
      std::lock_guard lock(mu_);
      result_.emplace(std::move(r));
      cv_.notify_all();
    };
  }
  bool ready() const {
    std::lock_guard lock(mu_);
    return result_.has_value();
  }
  Result<Post> get() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kHandoverTimeout, [&] { return result_.has_value(); }))
      return Status(Errc::io, "test: timed out waiting for done()");
    return *result_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<Post>> result_;
};

struct JsonPost {
  std::string nick;
  int64_t sec = 0;
  int64_t usec = 0;
  std::string text;
};

std::vector<JsonPost> parse_json_content(const std::string& content) {
  std::vector<JsonPost> out;
  const json::value doc = json::parse(content);
  for (const json::value& v : doc.as_array()) {
    const json::array& a = v.as_array();
    const json::array& t = a.at(1).as_array();
    out.push_back(JsonPost{std::string(a.at(0).as_string()), t.at(0).to_number<int64_t>(),
                           t.at(1).to_number<int64_t>(), std::string(a.at(2).as_string())});
  }
  return out;
}

std::string web_html(const std::string& content) {
  const json::value doc = json::parse(content);
  return std::string(doc.as_string());
}

size_t count(const std::string& haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

StoreSnapshot snapshot_of(std::vector<Post> posts, uint64_t sequence) {
  StoreSnapshot s;
  s.recent = std::move(posts);
  s.sequence = sequence;
  s.last_post = s.recent.empty() ? 0 : s.recent.back().sec;
  return s;
}

class RoomTest : public ::testing::Test {
 protected:
  RoomSettings settings(bool loose_login = true) {
    RoomSettings s;
    s.config.slug = "lobby";
    s.config.name = "Lobby";
    s.config.description = "Say hello.";
    s.config.data_dir = dir.path().string();
    s.config.loose_login = loose_login;
    s.url = kRoomUrl;
    s.render.room_url = kRoomUrl;
    s.version = "9.9-test";
    return s;
  }

  // Builds the room on a FakeStore holding `snap`, without opening it.
  void make(StoreSnapshot snap = {}) { make_with(settings(), std::move(snap)); }
  void make_with(RoomSettings s, StoreSnapshot snap = {}) {
    auto fake = std::make_unique<FakeStore>(std::move(snap));
    store = fake.get();
    room = std::make_unique<Room>(std::move(s), std::move(fake), clock);
  }
  void open(StoreSnapshot snap = {}) { open_with(settings(), std::move(snap)); }
  void open_with(RoomSettings s, StoreSnapshot snap = {}) {
    make_with(std::move(s), std::move(snap));
    ASSERT_TRUE(room->open(nullptr));
  }

  Result<Post> post(std::string_view nick, std::string_view text, std::string ip = kIp) {
    PostOutcome out;
    room->post(nick, text, std::move(ip), out.done());
    Result<Post> r = out.get();
    room->settle();  // readers are woken after the writer's answer
    return r;
  }

  // A post refused before the commit queue: done() ran inside post().
  Status refused_inline(std::string_view nick, std::string_view text, std::string ip = kIp) {
    PostOutcome out;
    room->post(nick, text, std::move(ip), out.done());
    EXPECT_TRUE(out.ready()) << "done() should have run inside post()";
    auto r = out.get();
    EXPECT_FALSE(r);
    return r.status();
  }

  // Every post after `pos`, asking again from each packet's pos as a client
  // does (a long catch-up comes in pieces).
  std::vector<JsonPost> catch_up(uint64_t pos) {
    std::vector<JsonPost> all;
    for (int pieces = 0; pieces < 1000; ++pieces) {
      Delta d = room->delta_since(pos, PacketFormat::json);
      if (!d.has_posts) break;
      auto posts = parse_json_content(*d.content);
      all.insert(all.end(), posts.begin(), posts.end());
      pos = d.pos;
      if (!d.more) break;
    }
    return all;
  }

  void write_blacklist(std::string_view text) {
    fs::create_directories(dir.path() / "data");
    std::ofstream(dir.path() / "data" / "blacklist.txt", std::ios::trunc) << text;
  }

  TempDir dir;
  ManualClock clock{from_seconds(kStart)};
  FakeStore* store = nullptr;  // owned by the room
  std::unique_ptr<Room> room;
};

// ---------------------------------------------------------------- open

TEST_F(RoomTest, OpenLoadsTheSnapshot) {
  auto snap = make_snapshot(5, 12);
  snap.warnings = {"line 3 skipped"};
  make(snap);
  std::vector<std::string> warnings{"earlier"};
  ASSERT_TRUE(room->open(&warnings));
  EXPECT_EQ(warnings, (std::vector<std::string>{"earlier", "line 3 skipped"}));
  EXPECT_EQ(store->opens(), 1);

  auto st = room->status();
  EXPECT_EQ(st.sequence, 12u);
  EXPECT_EQ(st.last_post, snap.last_post);
  EXPECT_EQ(st.num_chatters, 0u);
  EXPECT_EQ(room->recent_posts(100), snap.recent);
  EXPECT_EQ(room->recent_posts(2), (std::vector<Post>{snap.recent[3], snap.recent[4]}));
  EXPECT_EQ(room->delta_since(12, PacketFormat::json).pos, 12u);
}

TEST_F(RoomTest, OpenOfAnEmptyRoom) {
  open();
  auto st = room->status();
  EXPECT_EQ(st.sequence, 0u);
  EXPECT_EQ(st.last_post, 0);
  EXPECT_TRUE(room->recent_posts(10).empty());
  auto d = room->delta_since(0, PacketFormat::json);
  EXPECT_EQ(d.pos, 0u);
  EXPECT_FALSE(d.has_posts);
  EXPECT_EQ(*d.content, "[]");
}

TEST_F(RoomTest, OpenFailureIsReturnedAndPostingIsRefused) {
  make(make_snapshot(2, 2));
  store->fail_next_open();
  auto st = room->open(nullptr);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.code(), Errc::io);
  Status s = refused_inline("alice", "hello");
  EXPECT_EQ(s.code(), Errc::io);
}

TEST_F(RoomTest, PostBeforeOpenIsRefused) {
  make();
  EXPECT_EQ(refused_inline("alice", "hello").code(), Errc::io);
  EXPECT_EQ(store->appends_entered(), 0u);
}

// ---------------------------------------------------------------- posting

TEST_F(RoomTest, PostIsStampedStoredAndVisible) {
  open(make_snapshot(3, 3));
  clock.advance(microseconds(250));
  auto r = post("  carol ", " hi there \n");
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->nick, "carol");
  EXPECT_EQ(r->text, "hi there");
  EXPECT_EQ(r->ip, kIp);
  EXPECT_EQ(r->sec, kStart);
  EXPECT_EQ(r->usec, 250);
  EXPECT_EQ(r->seq, 4u);
  ASSERT_EQ(store->posts().size(), 1u);
  EXPECT_EQ(store->posts()[0], *r);

  // Visible before done(): by the time we hear "ok" it is in the window.
  auto st = room->status();
  EXPECT_EQ(st.sequence, 4u);
  EXPECT_EQ(st.last_post, kStart);
  EXPECT_EQ(room->recent_posts(1).at(0), *r);
}

// A future-dated line (here 2030) in the live log must not give the next
// post a 2030 time, and so a permalink under a/2030/.
TEST_F(RoomTest, AFutureDatedLineDoesNotDateTheNextPostInTheFuture) {
  auto snap = make_snapshot(3, 3);
  snap.recent.back().sec = 1893456000;  // 2030-01-01
  ::testing::internal::CaptureStderr();
  open(snap);
  auto r = post("carol", "hi");
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->sec, kStart);
  EXPECT_EQ(r->usec, 0);
  EXPECT_EQ(r->seq, 4u);
  EXPECT_NE(err.find("the clock is"), std::string::npos) << err;
}

TEST_F(RoomTest, ValidationErrorsComeBackInlineAndNeverReachTheStore) {
  RoomSettings s = settings();
  s.limits.text_limit = 10;
  s.limits.nick_limit = 5;
  open_with(s, make_snapshot(2, 2));

  Status empty_nick = refused_inline("  \t", "hello");
  EXPECT_EQ(empty_nick.code(), Errc::invalid);
  EXPECT_NE(empty_nick.message().find("nick"), std::string::npos) << empty_nick.message();

  Status empty_text = refused_inline("alice", " \n \r\n ");
  EXPECT_EQ(empty_text.code(), Errc::invalid);
  EXPECT_NE(empty_text.message().find("text"), std::string::npos) << empty_text.message();

  Status long_text = refused_inline("alice", "12345678901");
  EXPECT_EQ(long_text.code(), Errc::too_large);
  EXPECT_NE(long_text.message().find("10"), std::string::npos) << long_text.message();

  Status long_nick = refused_inline("abcdef", "hello");
  EXPECT_EQ(long_nick.code(), Errc::invalid);

  EXPECT_EQ(store->appends_entered(), 0u);
  EXPECT_EQ(room->status().sequence, 2u);

  // Exactly at the limits is fine.
  auto ok = post("abcde", "1234567890");
  ASSERT_TRUE(ok) << ok.status().message();
  EXPECT_EQ(ok->seq, 3u);
}

TEST_F(RoomTest, DefaultTextLimitIs2048Characters) {
  open();
  EXPECT_EQ(refused_inline("alice", std::string(2049, 'x')).code(), Errc::too_large);
  // Characters, not bytes: 2048 two-byte characters pass.
  std::string accented;
  for (int i = 0; i < 2048; ++i) accented += "\xC3\xA9";
  auto r = post("alice", accented);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(store->posts().size(), 1u);
}

TEST_F(RoomTest, BlacklistedAddressIsForbidden) {
  write_blacklist("# spammers\n203.0.113.0/24\n2001:db8::/32\n");
  open();
  Status s = refused_inline("mallory", "buy now", "203.0.113.77");
  EXPECT_EQ(s.code(), Errc::forbidden);
  EXPECT_EQ(refused_inline("mallory", "buy now", "2001:db8::5").code(), Errc::forbidden);
  EXPECT_EQ(store->appends_entered(), 0u);

  auto ok = post("alice", "hello", "198.51.100.1");
  EXPECT_TRUE(ok) << ok.status().message();
}

// The original read blacklist.txt on every post: a change applies to the
// very next post, with no clock moving in between.
TEST_F(RoomTest, BlacklistAppliesToTheVeryNextPost) {
  open();
  ASSERT_TRUE(post("mallory", "first", "203.0.113.77"));  // no file yet
  write_blacklist("203.0.113.77\n");
  EXPECT_EQ(refused_inline("mallory", "second", "203.0.113.77").code(), Errc::forbidden);
  EXPECT_EQ(store->posts().size(), 1u);

  write_blacklist("203.0.113.78\n");  // same size, a moment later
  EXPECT_TRUE(post("mallory", "third", "203.0.113.77"));
  EXPECT_EQ(refused_inline("mallory", "fourth", "203.0.113.78").code(), Errc::forbidden);

  write_blacklist("# nobody\n");
  EXPECT_TRUE(post("mallory", "fifth", "203.0.113.78"));
}

// A blacklist that exists but cannot be read fails closed: nobody posts
// (503 with a reason) until it can be read again; it is said on stderr.
TEST_F(RoomTest, AnUnreadableBlacklistRefusesPostingUntilItIsReadable) {
  fs::path file = dir.path() / "data" / "blacklist.txt";
  fs::create_directories(file);  // a directory where the file should be
  open();
  ::testing::internal::CaptureStderr();
  Status s = refused_inline("mallory", "spam", "203.0.113.77");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(s.code(), Errc::unavailable);
  EXPECT_NE(s.message().find("the blacklist cannot be read"), std::string::npos) << s.message();
  EXPECT_NE(err.find(file.string()), std::string::npos) << err;
  EXPECT_EQ(refused_inline("alice", "hello", "198.51.100.1").code(), Errc::unavailable);
  EXPECT_EQ(store->appends_entered(), 0u);

  fs::remove(file);
  write_blacklist("203.0.113.77\n");
  EXPECT_EQ(refused_inline("mallory", "spam", "203.0.113.77").code(), Errc::forbidden);
  EXPECT_TRUE(post("alice", "hello", "198.51.100.1"));

  // A dangling symbolic link after a good load fails closed too.
  fs::remove(file);
  fs::create_symlink(dir.path() / "nowhere.txt", file);
  EXPECT_EQ(refused_inline("mallory", "spam", "203.0.113.77").code(), Errc::unavailable);
  EXPECT_EQ(refused_inline("alice", "again", "198.51.100.1").code(), Errc::unavailable);

  // Removed altogether: no blacklist.
  fs::remove(file);
  EXPECT_TRUE(post("mallory", "allowed now", "203.0.113.77"));
}

TEST_F(RoomTest, PostAfterCloseIsRefusedAndCloseIsIdempotent) {
  open();
  ASSERT_TRUE(post("alice", "one"));
  room->close();
  auto r = post("alice", "two");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::io);
  room->close();
  EXPECT_EQ(store->posts().size(), 1u);
}

// Room promises that every public function may be called from any thread
// and that close() is idempotent. Two close() calls at once both reach
// CommitQueue::stop()'s thread_.join(): the second caller sees the thread
// still joinable (the first is inside join()) and joins it too, which is
// undefined behaviour; with glibc the second join never returns (or
// std::system_error aborts the process).
// Disabled: it hangs or aborts until stop() lets a single caller join and
// makes the others wait for it. See the report.
TEST_F(RoomTest, ConcurrentCloseCommitsAndReturnsInBothThreads) {
  for (int round = 0; round < 50; ++round) {
    SCOPED_TRACE(round);
    open();
    store->block();
    PostOutcome a, b;
    room->post("alice", "in flight", kIp, a.done());
    ASSERT_TRUE(store->wait_appends_entered(1));
    room->post("alice", "queued", kIp, b.done());
    std::thread first([&] { room->close(); });
    std::thread second([&] { room->close(); });
    store->release();
    first.join();
    second.join();
    EXPECT_TRUE(a.get());
    EXPECT_TRUE(b.get());
    EXPECT_EQ(store->posts().size(), 2u);
  }
}

TEST_F(RoomTest, StoreFailureComesBackAndNothingIsPublished) {
  open(make_snapshot(2, 2));
  auto cid = room->admit(std::nullopt).cid;
  auto w = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(cid, 2, w));
  store->fail_next_append();
  auto r = post("alice", "lost");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::io);
  EXPECT_EQ(room->status().sequence, 2u);
  EXPECT_EQ(w->wakes.load(), 0);
  EXPECT_FALSE(room->delta_since(2, PacketFormat::json).has_posts);

  auto ok = post("alice", "kept");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->seq, 3u);
  EXPECT_EQ(w->wakes.load(), 1);
}

TEST_F(RoomTest, PostsWrittenByAnotherWriterRestartTheWindow) {
  open(make_snapshot(5, 5));
  store->advance_sequence(10);  // the original tools stored posts 6..15 meanwhile
  auto r = post("alice", "after the gap");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq, 16u);
  EXPECT_EQ(room->status().sequence, 16u);
  auto recent = room->recent_posts(100);
  ASSERT_EQ(recent.size(), 1u) << "the window holds contiguous seqs only";
  EXPECT_EQ(recent[0].seq, 16u);

  auto d = room->delta_since(5, PacketFormat::json);
  EXPECT_EQ(d.pos, 16u);
  auto posts = parse_json_content(*d.content);
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].text, "after the gap");
}

// ---------------------------------------------------------------- deltas

TEST_F(RoomTest, DeltaAtTheEndIsEmpty) {
  open(make_snapshot(5, 5));
  for (auto fmt : {PacketFormat::json, PacketFormat::sexpr, PacketFormat::web}) {
    auto d = room->delta_since(5, fmt);
    EXPECT_EQ(d.pos, 5u);
    EXPECT_FALSE(d.has_posts);
    EXPECT_FALSE(d.refresh);
    ASSERT_NE(d.content, nullptr);
    EXPECT_EQ(*d.content, empty_content(fmt));
  }
}

TEST_F(RoomTest, DeltaBehindHasExactlyTheNewerPosts) {
  auto snap = make_snapshot(5, 5);
  open(snap);
  auto d = room->delta_since(3, PacketFormat::json);
  EXPECT_EQ(d.pos, 5u);
  EXPECT_TRUE(d.has_posts);
  EXPECT_FALSE(d.refresh);
  auto posts = parse_json_content(*d.content);
  ASSERT_EQ(posts.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const Post& want = snap.recent[3 + i];
    EXPECT_EQ(posts[i].nick, want.nick);
    EXPECT_EQ(posts[i].sec, want.sec);
    EXPECT_EQ(posts[i].usec, want.usec);
    EXPECT_EQ(posts[i].text, want.text);
  }
  // The fragment is exactly what the renderer makes for those posts.
  std::vector<Post> tail(snap.recent.begin() + 3, snap.recent.end());
  EXPECT_EQ(*d.content, render_content(PacketFormat::json, tail, nullptr, RenderOptions{}));

  auto all = parse_json_content(*room->delta_since(0, PacketFormat::json).content);
  EXPECT_EQ(all.size(), 5u);
}

TEST_F(RoomTest, DeltaOfAPostedPostCarriesItsStampAndText) {
  open(make_snapshot(1, 1));
  clock.advance(microseconds(42));
  auto r = post("dave", "line one\nline \"two\"");
  ASSERT_TRUE(r);
  auto d = room->delta_since(1, PacketFormat::json);
  EXPECT_EQ(d.pos, 2u);
  auto posts = parse_json_content(*d.content);
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].nick, "dave");
  EXPECT_EQ(posts[0].sec, kStart);
  EXPECT_EQ(posts[0].usec, 42);
  EXPECT_EQ(posts[0].text, "line one\nline \"two\"");
}

TEST_F(RoomTest, DeltaInSexprFormat) {
  auto snap = make_snapshot(3, 3);
  open(snap);
  auto d = room->delta_since(2, PacketFormat::sexpr);
  EXPECT_TRUE(d.has_posts);
  EXPECT_EQ(*d.content, " (\"alice\" (" + std::to_string(snap.recent[2].sec) + " 2) \"post 3\")");
}

TEST_F(RoomTest, WebDeltaGroupsHeadersAcrossTheDeltaBoundary) {
  const int64_t t0 = 1732450000;
  std::vector<Post> posts = {
      make_post("alice", t0, 0, "one", kIp, 1),        make_post("alice", t0 + 10, 0, "two", kIp, 2),
      make_post("alice", t0 + 20, 0, "three", kIp, 3), make_post("bob", t0 + 30, 0, "four", kIp, 4),
      make_post("alice", t0 + 40, 0, "five", kIp, 5),
  };
  open(snapshot_of(posts, 5));

  // From the start: alice (one, two, three), bob, alice.
  std::string all = web_html(*room->delta_since(0, PacketFormat::web).content);
  EXPECT_EQ(count(all, "class=\"entry-header\""), 3u) << all;

  // From pos 1: "two" follows alice's "one", which the client already shows.
  auto d = room->delta_since(1, PacketFormat::web);
  EXPECT_TRUE(d.has_posts);
  std::string html = web_html(*d.content);
  EXPECT_EQ(count(html, "class=\"entry-header\""), 2u) << html;
  EXPECT_LT(html.find("two"), html.find("entry-header")) << "no header before 'two'";
  EXPECT_EQ(*d.content, render_content(PacketFormat::web, std::span<const Post>(posts).subspan(1), &posts[0],
                                       settings().render));

  // From pos 3 the first post is bob's: it has its header.
  std::string from3 = web_html(*room->delta_since(3, PacketFormat::web).content);
  EXPECT_EQ(count(from3, "class=\"entry-header\""), 2u) << from3;
  EXPECT_LT(from3.find("entry-header"), from3.find("four"));
}

TEST_F(RoomTest, WebDeltaOfPostsMadeThroughTheRoomGroupsWithThePreviousPost) {
  open();
  ASSERT_TRUE(post("erin", "first"));
  clock.advance(seconds(10));
  ASSERT_TRUE(post("erin", "second"));
  std::string second = web_html(*room->delta_since(1, PacketFormat::web).content);
  EXPECT_EQ(count(second, "entry-header"), 0u) << second;
  EXPECT_NE(second.find("second"), std::string::npos);

  clock.advance(seconds(kHeaderGroupSeconds));  // too long after: a new block
  ASSERT_TRUE(post("erin", "third"));
  std::string third = web_html(*room->delta_since(2, PacketFormat::web).content);
  EXPECT_EQ(count(third, "class=\"entry-header\""), 1u) << third;

  clock.advance(seconds(1));
  ASSERT_TRUE(post("erin", "fourth", "198.51.100.9"));  // same nick, other address
  std::string fourth = web_html(*room->delta_since(3, PacketFormat::web).content);
  EXPECT_EQ(count(fourth, "class=\"entry-header\""), 1u) << fourth;
}

TEST_F(RoomTest, DeltaBeyondTheEndRefreshesWithEverything) {
  auto snap = make_snapshot(4, 4);
  open(snap);
  for (uint64_t pos : {5u, 1000u}) {
    auto d = room->delta_since(pos, PacketFormat::json);
    EXPECT_EQ(d.pos, 4u);
    EXPECT_TRUE(d.refresh);
    EXPECT_TRUE(d.has_posts);
    EXPECT_EQ(parse_json_content(*d.content).size(), 4u);
  }
  // Web: the first post has its header (the view is cleared first).
  auto w = room->delta_since(99, PacketFormat::web);
  EXPECT_TRUE(w.refresh);
  std::string html = web_html(*w.content);
  EXPECT_EQ(html.rfind("<div class=\"entry-header\">", 0), 0u) << html.substr(0, 200);
  EXPECT_LT(html.find("entry-header"), html.find("post 1"));
}

TEST_F(RoomTest, DeltaBeyondTheEndOfAWindowThatStartsLater) {
  open(make_snapshot(3, 50));  // posts 48..50
  auto d = room->delta_since(51, PacketFormat::json);
  EXPECT_TRUE(d.refresh);
  EXPECT_EQ(d.pos, 50u);
  auto posts = parse_json_content(*d.content);
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0].text, "post 48");
}

TEST_F(RoomTest, DeltaBeyondTheEndOfAnEmptyRoom) {
  open();
  auto d = room->delta_since(7, PacketFormat::json);
  EXPECT_TRUE(d.refresh);
  EXPECT_EQ(d.pos, 0u);
  EXPECT_FALSE(d.has_posts);
  EXPECT_EQ(*d.content, "[]");
}

TEST_F(RoomTest, DeltaOlderThanTheWindowStartsAtTheWindow) {
  open(make_snapshot(5, 100));  // posts 96..100
  for (uint64_t pos : {0u, 10u, 94u, 95u}) {
    SCOPED_TRACE(pos);
    auto d = room->delta_since(pos, PacketFormat::json);
    EXPECT_EQ(d.pos, 100u);
    EXPECT_TRUE(d.has_posts);
    auto posts = parse_json_content(*d.content);
    ASSERT_EQ(posts.size(), 5u);
    EXPECT_EQ(posts.front().text, "post 96");
    EXPECT_EQ(posts.back().text, "post 100");
  }
  auto d = room->delta_since(96, PacketFormat::json);
  EXPECT_EQ(parse_json_content(*d.content).size(), 4u);
}

TEST_F(RoomTest, SameDeltaSharesOneFragmentUntilANewPost) {
  open(make_snapshot(5, 5));
  auto a = room->delta_since(3, PacketFormat::json);
  auto b = room->delta_since(3, PacketFormat::json);
  EXPECT_EQ(a.content.get(), b.content.get());
  auto w1 = room->delta_since(3, PacketFormat::web);
  auto w2 = room->delta_since(3, PacketFormat::web);
  EXPECT_EQ(w1.content.get(), w2.content.get());
  EXPECT_NE(w1.content.get(), a.content.get());
  EXPECT_NE(room->delta_since(2, PacketFormat::json).content.get(), a.content.get());

  ASSERT_TRUE(post("alice", "news"));
  auto c = room->delta_since(3, PacketFormat::json);
  EXPECT_NE(c.content.get(), a.content.get());
  EXPECT_EQ(c.pos, 6u);
  auto posts = parse_json_content(*c.content);
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts.back().text, "news");
  EXPECT_EQ(parse_json_content(*a.content).size(), 2u) << "the old fragment is unchanged";
  EXPECT_EQ(room->delta_since(3, PacketFormat::json).content.get(), c.content.get());
}

TEST_F(RoomTest, ManyDifferentDeltasStayCorrectBeyondTheCache) {
  open(make_snapshot(100, 100));
  for (int round = 0; round < 2; ++round) {
    for (uint64_t pos = 0; pos < 100; ++pos) {
      auto d = room->delta_since(pos, PacketFormat::json);
      ASSERT_EQ(parse_json_content(*d.content).size(), 100 - pos) << pos;
    }
  }
}

// ---------------------------------------------------------------- waiting

TEST_F(RoomTest, WaitReturnsFalseWhenThereIsNewsAlready) {
  open(make_snapshot(5, 5));
  Cid cid = room->admit(std::nullopt).cid;
  auto w = std::make_shared<CountingWaiter>();
  EXPECT_FALSE(room->wait(cid, 4, w));
  EXPECT_FALSE(room->wait(cid, 9, w)) << "beyond the end: reply at once with refresh";
  ASSERT_TRUE(post("alice", "x"));
  EXPECT_EQ(w->wakes.load(), 0) << "not registered";
}

TEST_F(RoomTest, WaiterIsWokenExactlyOnceWhenAPostIsPublished) {
  open(make_snapshot(5, 5));
  Cid cid = room->admit(std::nullopt).cid;
  auto w = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(cid, 5, w));
  EXPECT_EQ(w->wakes.load(), 0);
  ASSERT_TRUE(post("alice", "news"));
  EXPECT_EQ(w->wakes.load(), 1);
  ASSERT_TRUE(post("alice", "more"));
  EXPECT_EQ(w->wakes.load(), 1) << "a wake unregisters the waiter";
  auto d = room->delta_since(5, PacketFormat::json);
  EXPECT_EQ(parse_json_content(*d.content).size(), 2u);
}

TEST_F(RoomTest, SeveralBatchesWakeOnce) {
  open(make_snapshot(5, 5));
  Cid cid = room->admit(std::nullopt).cid;
  auto w = std::make_shared<CountingWaiter>();
  store->block();
  PostOutcome a, b, c;
  room->post("alice", "a", kIp, a.done());
  ASSERT_TRUE(store->wait_appends_entered(1));
  room->post("alice", "b", kIp, b.done());
  room->post("alice", "c", kIp, c.done());
  ASSERT_TRUE(room->wait(cid, 5, w)) << "nothing is published before it is durable";
  store->release();
  ASSERT_TRUE(a.get());
  ASSERT_TRUE(b.get());
  ASSERT_TRUE(c.get());
  EXPECT_EQ(w->wakes.load(), 1);
  EXPECT_EQ(store->batches().size(), 2u);
}

TEST_F(RoomTest, EveryWaitingReaderIsWoken) {
  open();
  std::vector<std::shared_ptr<CountingWaiter>> ws;
  for (int i = 0; i < 5; ++i) {
    ws.push_back(std::make_shared<CountingWaiter>());
    ASSERT_TRUE(room->wait(room->admit(std::nullopt).cid, 0, ws.back()));
  }
  ASSERT_TRUE(post("alice", "hello all"));
  for (const auto& w : ws) EXPECT_EQ(w->wakes.load(), 1);
}

// Admitted as it came and at the room's sequence, a request waits in the
// same call; a new cid, a duplicate (given a new one) or a pos the room is
// not at do not wait: the client must be told first.
TEST_F(RoomTest, AdmitAndWaitWaitsOnlyAKnownCidAtTheSequence) {
  open(make_snapshot(5, 5));
  auto w = std::make_shared<CountingWaiter>();
  Room::Entrance fresh = room->admit_and_wait(std::nullopt, "192.0.2.1", false, 5, w);
  EXPECT_TRUE(fresh.admission.reallocated);
  EXPECT_FALSE(fresh.waiting) << "a new client learns its cid first";
  room->replied(fresh.admission.cid);
  const Cid cid = fresh.admission.cid;
  EXPECT_FALSE(room->admit_and_wait(cid, "192.0.2.1", false, 4, w).waiting) << "news at pos 4";
  room->replied(cid);
  Room::Entrance at_end = room->admit_and_wait(cid, "192.0.2.1", false, 5, w);
  EXPECT_TRUE(at_end.waiting);
  EXPECT_EQ(at_end.admission.cid, cid);
  EXPECT_EQ(at_end.epoch, room->epoch());
  EXPECT_EQ(room->waiting_readers(), 1u);
  auto newer = std::make_shared<CountingWaiter>();
  Room::Entrance dup = room->admit_and_wait(cid, "192.0.2.1", false, 5, newer);
  EXPECT_TRUE(dup.admission.reallocated);
  EXPECT_FALSE(dup.waiting);
  EXPECT_EQ(w->wakes.load(), 1) << "the duplicate's waiter is woken to end";
  EXPECT_EQ(room->waiting_readers(), 0u);
  ASSERT_TRUE(post("alice", "news"));
  EXPECT_EQ(newer->wakes.load(), 0) << "never registered";
}

// unwait() tells whether the cid is still known: a reader about to answer
// learns there that a newer request dropped its cid.
TEST_F(RoomTest, UnwaitSaysWhetherTheCidIsStillKnown) {
  open(make_snapshot(5, 5));
  Cid cid = room->admit(std::nullopt).cid;
  room->replied(cid);
  auto w = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->admit_and_wait(cid, {}, false, 5, w).waiting);
  EXPECT_TRUE(room->unwait(cid, w.get(), true));
  ASSERT_TRUE(room->admit_and_wait(cid, {}, false, 5, w).waiting);
  ASSERT_TRUE(room->admit(cid).reallocated);  // a duplicate drops it
  EXPECT_FALSE(room->unwait(cid, w.get(), true));
}

TEST_F(RoomTest, UnwaitStopsTheWake) {
  open(make_snapshot(5, 5));
  Cid cid = room->admit(std::nullopt).cid;
  auto w = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(cid, 5, w));
  room->unwait(cid, w.get());
  ASSERT_TRUE(post("alice", "news"));
  EXPECT_EQ(w->wakes.load(), 0);
}

TEST_F(RoomTest, UnwaitByAnotherWaiterLeavesTheCurrentOne) {
  open(make_snapshot(5, 5));
  Cid cid = room->admit(std::nullopt).cid;
  auto current = std::make_shared<CountingWaiter>();
  CountingWaiter stale;
  ASSERT_TRUE(room->wait(cid, 5, current));
  room->unwait(cid, &stale);
  ASSERT_TRUE(post("alice", "news"));
  EXPECT_EQ(current->wakes.load(), 1);
}

TEST_F(RoomTest, AWaiterThatIsGoneIsNotWoken) {
  open(make_snapshot(5, 5));
  Cid cid = room->admit(std::nullopt).cid;
  auto w = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(cid, 5, w));
  w.reset();  // held weakly: the request went away without unwait()
  ASSERT_TRUE(post("alice", "news"));
  EXPECT_EQ(room->status().sequence, 6u);
}

TEST_F(RoomTest, DuplicateAdmissionWakesTheOldWaiter) {
  open(make_snapshot(5, 5));
  auto first = room->admit(std::nullopt);
  ASSERT_TRUE(first.reallocated);
  auto old = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(first.cid, 5, old));

  auto dup = room->admit(first.cid);
  ASSERT_TRUE(dup.dropped.has_value());
  EXPECT_EQ(*dup.dropped, first.cid);
  EXPECT_TRUE(dup.reallocated);
  EXPECT_NE(dup.cid, first.cid);
  EXPECT_EQ(old->wakes.load(), 1);
  EXPECT_FALSE(room->cid_alive(first.cid)) << "the old request finds its cid gone";
  EXPECT_TRUE(room->cid_alive(dup.cid));
  EXPECT_EQ(room->num_chatters(), 1u);

  auto fresh = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(room->wait(dup.cid, 5, fresh));
  ASSERT_TRUE(post("alice", "news"));
  EXPECT_EQ(old->wakes.load(), 1) << "not woken a second time";
  EXPECT_EQ(fresh->wakes.load(), 1);
}

// ---------------------------------------------------------------- clients

TEST_F(RoomTest, AdmissionFollowsTheRoomsLooseLogin) {
  open_with(settings(/*loose_login=*/false));
  auto refused = room->admit(Cid{1234});
  EXPECT_EQ(refused.cid, kExpiredCid);
  EXPECT_EQ(room->num_chatters(), 0u);
  Cid api = room->allocate_cid();  // API login hands one out
  auto a = room->admit(api);
  EXPECT_EQ(a.cid, api);
  EXPECT_FALSE(a.reallocated);
  EXPECT_TRUE(room->cid_alive(api));
}

TEST_F(RoomTest, StatusCounters) {
  auto snap = make_snapshot(3, 30);
  open(snap);
  auto st = room->status();
  EXPECT_EQ(st.sequence, 30u);
  EXPECT_EQ(st.last_post, snap.last_post);
  EXPECT_EQ(st.num_chatters, 0u);

  room->allocate_cid();
  room->admit(std::nullopt);
  clock.advance(seconds(5));
  ASSERT_TRUE(post("alice", "x"));
  ASSERT_TRUE(post("alice", "y"));
  st = room->status();
  EXPECT_EQ(st.sequence, 32u);
  EXPECT_EQ(st.last_post, kStart + 5);
  EXPECT_EQ(st.num_chatters, 2u);
  EXPECT_EQ(room->num_chatters(), 2u);
}

TEST_F(RoomTest, SweepDropsIdleCidsAndRecordsOnlyChanges) {
  open();
  room->sweep();  // first sweep: the count is recorded once
  EXPECT_EQ(store->chatters_records(), (std::vector<size_t>{0}));
  room->sweep();
  EXPECT_EQ(store->chatters_records(), (std::vector<size_t>{0}));

  Cid idle = room->allocate_cid();
  Cid waiting = room->admit(std::nullopt).cid;
  Cid answered = room->admit(std::nullopt).cid;
  clock.advance(seconds(4));
  room->replied(answered);  // idle from now on
  room->sweep();
  EXPECT_EQ(store->chatters_records(), (std::vector<size_t>{0, 3}));

  clock.advance(seconds(6));  // idle: exactly 10 s, answered: 6 s
  room->sweep();
  EXPECT_EQ(store->chatters_records(), (std::vector<size_t>{0, 3}));
  EXPECT_TRUE(room->cid_alive(idle));

  clock.advance(microseconds(1));
  room->sweep();
  EXPECT_FALSE(room->cid_alive(idle));
  EXPECT_TRUE(room->cid_alive(answered));
  EXPECT_EQ(store->chatters_records(), (std::vector<size_t>{0, 3, 2}));

  clock.advance(seconds(4));
  room->sweep();
  EXPECT_FALSE(room->cid_alive(answered));
  EXPECT_TRUE(room->cid_alive(waiting)) << "a waiting client is never swept";
  EXPECT_EQ(room->status().num_chatters, 1u);
  EXPECT_EQ(store->chatters_records(), (std::vector<size_t>{0, 3, 2, 1}));

  clock.advance(seconds(3600));
  room->sweep();
  EXPECT_TRUE(room->cid_alive(waiting));
  EXPECT_EQ(store->chatters_records().size(), 4u);
}

TEST_F(RoomTest, SweepUsesTheConfiguredClientTimeout) {
  RoomSettings s = settings();
  s.client_timeout = seconds(2);
  open_with(s);
  Cid c = room->allocate_cid();
  clock.advance(seconds(2));
  room->sweep();
  EXPECT_TRUE(room->cid_alive(c));
  clock.advance(microseconds(1));
  room->sweep();
  EXPECT_FALSE(room->cid_alive(c));
}

TEST_F(RoomTest, HeldCidIsNotSweptUntilReplied) {
  open();
  Cid c = room->allocate_cid();
  room->hold(c);
  clock.advance(seconds(60));
  room->sweep();
  EXPECT_TRUE(room->cid_alive(c));
  room->replied(c);
  clock.advance(seconds(11));
  room->sweep();
  EXPECT_FALSE(room->cid_alive(c));
}

// ---------------------------------------------------------------- rss

TEST_F(RoomTest, RssIsCachedUntilANewPost) {
  open(make_snapshot(3, 3));
  auto a = room->rss();
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a->find("post 3"), std::string::npos);
  EXPECT_NE(a->find("Lobby"), std::string::npos);
  EXPECT_EQ(room->rss().get(), a.get());
  room->admit(std::nullopt);  // clients do not change the feed
  EXPECT_EQ(room->rss().get(), a.get());

  ASSERT_TRUE(post("frank", "fresh news"));
  auto b = room->rss();
  EXPECT_NE(b.get(), a.get());
  EXPECT_NE(b->find("fresh news"), std::string::npos);
  EXPECT_EQ(a->find("fresh news"), std::string::npos);
  EXPECT_EQ(room->rss().get(), b.get());
}

TEST_F(RoomTest, RssHasTheNewestPostsOnly) {
  open(make_snapshot(kMaxFeedItems + 10, kMaxFeedItems + 10));
  auto feed = room->rss();
  EXPECT_EQ(count(*feed, "<item>"), kMaxFeedItems);
  EXPECT_NE(feed->find("post " + std::to_string(kMaxFeedItems + 10) + "<"), std::string::npos);
  EXPECT_EQ(feed->find("post 10<"), std::string::npos);
  EXPECT_NE(feed->find("post 11<"), std::string::npos);
}

// Room::rss() renders outside the lock and then installs its result if the
// cache is empty. A publish() that clears the cache while a reader is
// rendering lets that reader install a feed made from the window as it was
// before the post: the stale feed then stays cached until the next post.
// Disabled: it fails (intermittently, under load) until Room::rss() checks
// that no post was published while it rendered. See the report.
TEST_F(RoomTest, RssIsNeverStaleAfterAPostIsAcknowledged) {
  std::vector<Post> posts;
  const std::string long_text(1500, 'w');
  for (uint64_t i = 1; i <= kMaxFeedItems; ++i)
    posts.push_back(make_post("bulk", 1732450000 + static_cast<int64_t>(i), 0,
                              long_text + " http://example.com/" + std::to_string(i) + ".png", kIp, i));
  open(snapshot_of(posts, kMaxFeedItems));

  int stale = 0;
  for (int trial = 0; trial < 40 && stale == 0; ++trial) {
    std::atomic<bool> stop{false};
    std::thread reader([&] {
      while (!stop.load()) room->rss();
    });
    ASSERT_TRUE(post("gina", "warm-up " + std::to_string(trial)));
    std::string marker = "marker-" + std::to_string(trial);
    ASSERT_TRUE(post("gina", marker));
    stop = true;
    reader.join();
    if (room->rss()->find(marker) == std::string::npos) ++stale;
  }
  EXPECT_EQ(stale, 0) << "rss() returned a feed without the acknowledged post";
}

// ---------------------------------------------------------------- window limit

TEST_F(RoomTest, OpenKeepsAtMostTheWindowLimit) {
  const size_t n = kMaxWindowPosts + 5;
  open(make_snapshot(n, n));
  auto recent = room->recent_posts(n);
  ASSERT_EQ(recent.size(), kMaxWindowPosts);
  EXPECT_EQ(recent.front().seq, 6u);
  EXPECT_EQ(recent.back().seq, n);
  EXPECT_EQ(room->status().sequence, n);

  auto d = room->delta_since(0, PacketFormat::json);
  EXPECT_FALSE(d.refresh);
  auto posts = catch_up(0);
  ASSERT_EQ(posts.size(), kMaxWindowPosts);
  EXPECT_EQ(posts.front().text, "post 6");
}

TEST_F(RoomTest, PublishingKeepsTheWindowAtTheLimit) {
  const size_t n = kMaxWindowPosts - 1;
  open(make_snapshot(n, n));
  ASSERT_TRUE(post("alice", "fills it"));
  auto recent = room->recent_posts(kMaxWindowPosts + 10);
  ASSERT_EQ(recent.size(), kMaxWindowPosts);
  EXPECT_EQ(recent.front().seq, 1u);

  ASSERT_TRUE(post("alice", "one over"));
  ASSERT_TRUE(post("alice", "two over"));
  recent = room->recent_posts(kMaxWindowPosts + 10);
  ASSERT_EQ(recent.size(), kMaxWindowPosts);
  EXPECT_EQ(recent.front().seq, 3u);
  EXPECT_EQ(recent.back().text, "two over");
  EXPECT_EQ(recent.back().seq, kMaxWindowPosts + 2);

  auto posts = catch_up(1);  // older than the window now
  ASSERT_EQ(posts.size(), kMaxWindowPosts);
  EXPECT_EQ(posts.front().text, "post 3");
  EXPECT_EQ(posts.back().text, "two over");
}

}  // namespace
}  // namespace chaton

namespace chaton {
namespace {

// A catch-up larger than one packet comes in pieces: each carries at most
// kMaxPacketPosts posts (and about kMaxPacketBytes of them), its pos is the
// last post it carries, `more` says another piece follows, and a reader that
// asks again from that pos gets the next piece, with no gap and no repeat.
TEST_F(RoomTest, ALongCatchUpComesInBoundedPiecesThatResumeByPos) {
  const size_t n = kMaxPacketPosts * 2 + 7;
  open(make_snapshot(n, n));
  uint64_t pos = 0;
  size_t pieces = 0;
  std::vector<std::string> got;
  for (;;) {
    Delta d = room->delta_since(pos, PacketFormat::json);
    if (!d.has_posts) break;
    ASSERT_FALSE(d.refresh);
    auto posts = parse_json_content(*d.content);
    ASSERT_LE(posts.size(), kMaxPacketPosts);
    ASSERT_EQ(d.pos, pos + posts.size());
    EXPECT_EQ(d.more, d.pos < n);
    for (const auto& p : posts) got.push_back(p.text);
    pos = d.pos;
    ++pieces;
    ASSERT_LT(pieces, 10u);
  }
  EXPECT_EQ(pieces, 3u);
  ASSERT_EQ(got.size(), n);
  EXPECT_EQ(got.front(), "post 1");
  EXPECT_EQ(got.back(), "post " + std::to_string(n));
}

TEST_F(RoomTest, ACatchUpPieceIsBoundedInBytesToo) {
  const std::string big(kMaxPacketBytes / 4, 'x');
  std::vector<Post> posts;
  for (uint64_t i = 1; i <= 10; ++i) posts.push_back(make_post("big", kStart - 100 + i, 0, big, kIp, i));
  open(snapshot_of(posts, 10));
  Delta d = room->delta_since(0, PacketFormat::json);
  EXPECT_TRUE(d.more);
  EXPECT_LT(d.pos, 10u);
  EXPECT_GE(d.pos, 1u);
  EXPECT_LE(d.content->size(), kMaxPacketBytes + big.size() + 1024);
  // A single post over the bound still goes out alone.
  std::vector<Post> huge{make_post("huge", kStart - 10, 0, std::string(kMaxPacketBytes + 10, 'y'), kIp, 1)};
  open(snapshot_of(huge, 1));
  Delta one = room->delta_since(0, PacketFormat::json);
  EXPECT_EQ(one.pos, 1u);
  EXPECT_FALSE(one.more);
  EXPECT_TRUE(one.has_posts);
}

}  // namespace
}  // namespace chaton
