// Tests for the comet long-poll (docs/PROTOCOL.md, "The comet long-poll")
// without a socket and without waiting: a FakeConnection takes the answer,
// a SimulatedTimeSource drives the soft and hard timeouts (and is the
// room's clock), and the test runs the io_context by hand. Each way a
// request ends — news, a timeout, expired, a duplicate, a disconnect —
// ends it once: what comes after sends nothing.
#include "live/long_poll.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rooms/fake_store.h"
#include "rooms/room_helpers.h"
#include "rooms/shared_fake_store.h"
#include "support/fake_connection.h"
#include "support/simulated_time.h"
#include "support/wait.h"

namespace chaton::live {

using http::Response;
namespace bhttp = boost::beast::http;
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using testing::FakeConnection;

constexpr auto kSoft = seconds(20);
constexpr auto kHard = seconds(300);

struct Reply {
  int64_t cid = 0;
  uint64_t pos = 0;
  size_t nc = 0;
  std::vector<std::string> texts;
};

Reply parse(const Response& res) {
  const json::object doc = json::parse(res.body()).as_object();
  Reply r;
  r.cid = doc.at("cid").to_number<int64_t>();
  r.pos = doc.at("pos").to_number<uint64_t>();
  r.nc = doc.at("nc").to_number<size_t>();
  for (const json::value& v : doc.at("content").as_array())
    r.texts.emplace_back(v.as_array().at(2).as_string());
  return r;
}

class LongPollTest : public ::testing::Test {
 protected:
  void SetUp() override { open_room(true); }
  void TearDown() override {
    // The clients go away: a request still waiting ends (its connection's
    // disconnect watch owns it, and it owns the connection).
    for (auto& c : connections) c->disconnect();
    io.poll();
    room->close();
  }

  void open_room(bool loose_login) {
    if (room) room->close();
    auto fake = std::make_unique<rooms_test::FakeStore>();
    store = fake.get();
    room = std::make_shared<Room>(testing::lobby_settings(loose_login), std::move(fake), time);
    ASSERT_TRUE(room->open(nullptr));
    timing.soft_timeout_min = timing.soft_timeout_max = std::chrono::duration<double>(kSoft).count();
    timing.hard_timeout_min = timing.hard_timeout_max = std::chrono::duration<double>(kHard).count();
  }

  // The room again, as one node's view of a store several nodes share.
  void open_shared_room(std::shared_ptr<rooms_test::SharedLog> shared) {
    room->close();
    store = nullptr;
    room = std::make_shared<Room>(testing::lobby_settings(true),
                                  std::make_unique<rooms_test::SharedFakeStore>(std::move(shared)), time);
    ASSERT_TRUE(room->open(nullptr));
  }

  // A comet request (JSON) on a connection of its own; runs what it does at once.
  std::shared_ptr<FakeConnection> poll(std::optional<Cid> cid, uint64_t pos,
                                       std::string address = "192.0.2.1") {
    auto conn = std::make_shared<FakeConnection>(io.get_executor());
    CometRequest req;
    req.cid = cid;
    req.pos = pos;
    req.format = PacketFormat::json;
    start_long_poll(room, conn->exchange("/lobby/comet?s=0", std::move(address)), req, timing, time);
    io.poll();
    connections.push_back(conn);
    return conn;
  }

  // A request that waits: a client that already has its cid and is up to date.
  std::shared_ptr<FakeConnection> waiting_poll() {
    auto first = poll(std::nullopt, room->status().sequence);
    EXPECT_EQ(first->responses.size(), 1u);
    cid = parse(first->responses.at(0)).cid;
    auto conn = poll(cid, room->status().sequence);
    EXPECT_TRUE(conn->responses.empty());
    EXPECT_TRUE(conn->watched());
    return conn;
  }

  void advance(std::chrono::steady_clock::duration d) {
    time.advance(d);
    io.poll();
  }

  void post(const std::string& text) {
    ASSERT_TRUE(testing::post_and_settle(*room, "bot", text));
    io.poll();
  }

  // Everything that could end a request again: a post, both timeouts, the
  // client going away. None may send anything once it has ended.
  void everything_else_happens(FakeConnection& conn) {
    post("later");
    advance(kHard * 2);
    conn.disconnect();
    io.poll();
  }

  // How many ways the request ended: responses and closes.
  static size_t endings(const FakeConnection& conn) {
    return conn.responses.size() + static_cast<size_t>(conn.closes);
  }

  // The request on `old_conn` (of `cid`) was dropped for the duplicate on
  // `new_conn`: closed once without a reply, and the newer one told a new cid.
  void expect_dropped_for(FakeConnection& old_conn, const FakeConnection& new_conn) {
    EXPECT_EQ(old_conn.closes, 1);
    EXPECT_TRUE(old_conn.responses.empty());
    ASSERT_EQ(new_conn.responses.size(), 1u);
    EXPECT_NE(parse(new_conn.responses[0]).cid, cid);
    everything_else_happens(old_conn);
    EXPECT_EQ(endings(old_conn), 1u);
    EXPECT_EQ(old_conn.closes, 1);
  }

  testing::SimulatedTimeSource time{from_seconds(1732460000)};
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  CometConfig timing;
  std::shared_ptr<Room> room;
  rooms_test::FakeStore* store = nullptr;  // owned by the room
  Cid cid = kExpiredCid;
  std::vector<std::shared_ptr<FakeConnection>> connections;  // every poll()'s, gone at TearDown
};

TEST_F(LongPollTest, ANewClientLearnsItsCidAtOnce) {
  auto conn = poll(std::nullopt, 0);
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_NE(r.cid, kExpiredCid);
  EXPECT_TRUE(r.texts.empty());
  EXPECT_EQ(conn->responses[0][bhttp::field::cache_control], "no-cache");
  EXPECT_FALSE(conn->watched());  // answered at once: it never waited
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
}

TEST_F(LongPollTest, APostEndsTheWaitWithThePostOnce) {
  auto conn = waiting_poll();
  post("hello");
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_EQ(r.cid, cid);
  EXPECT_EQ(r.texts, std::vector<std::string>{"hello"});
  EXPECT_EQ(r.pos, room->status().sequence);
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
}

TEST_F(LongPollTest, TheSoftTimeoutPingsOnlyWhenTheChattersCountChanged) {
  auto conn = waiting_poll();
  const size_t nc = room->num_chatters();
  advance(kSoft);
  advance(kSoft);
  EXPECT_TRUE(conn->responses.empty()) << "the count did not change: no ping";

  room->allocate_cid("198.51.100.7");  // somebody else comes in
  advance(kSoft - seconds(1));
  EXPECT_TRUE(conn->responses.empty()) << "not before the soft timeout";
  advance(seconds(1));
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_EQ(r.nc, nc + 1);
  EXPECT_TRUE(r.texts.empty());
  EXPECT_EQ(r.cid, cid);
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
}

TEST_F(LongPollTest, TheHardTimeoutPingsAnyway) {
  auto conn = waiting_poll();
  const auto softs = kHard / kSoft;
  for (int i = 1; i < softs; ++i) advance(kSoft);
  EXPECT_TRUE(conn->responses.empty()) << "soft timeouts with the same count send nothing";
  advance(kSoft);  // the hard timeout
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_TRUE(r.texts.empty());
  EXPECT_EQ(r.cid, cid);
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
}

TEST_F(LongPollTest, TheHardTimeoutComesAtItsTimeEvenBetweenSoftOnes) {
  timing.hard_timeout_min = timing.hard_timeout_max = 50;  // not a multiple of the soft 20 s
  auto conn = waiting_poll();
  advance(seconds(49));
  EXPECT_TRUE(conn->responses.empty());
  advance(seconds(1));
  EXPECT_EQ(conn->responses.size(), 1u);
}

TEST_F(LongPollTest, AnUnknownCidWithoutLooseLoginIsToldItExpired) {
  open_room(false);
  auto conn = poll(Cid{12345}, 0);
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_EQ(r.cid, kExpiredCid);
  EXPECT_EQ(r.pos, 0u);
  EXPECT_TRUE(r.texts.empty());
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
}

// A second request with the cid of one still waiting is a duplicate: the
// old one is closed without a reply, the new one gets a new cid.
TEST_F(LongPollTest, ADuplicateClosesTheWaitingRequestWithoutAReply) {
  auto old_conn = waiting_poll();
  auto new_conn = poll(cid, room->status().sequence);
  expect_dropped_for(*old_conn, *new_conn);
}

// A client that goes away gets nothing, then or later; its cid stops
// waiting, so it is forgotten after the client timeout like any idle one.
TEST_F(LongPollTest, ADisconnectEndsItSilentlyAndLaterEventsSendNothing) {
  auto conn = waiting_poll();
  const size_t nc = room->num_chatters();
  conn->disconnect();
  io.poll();
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 0u);
  time.advance(room->settings().client_timeout + seconds(1));
  room->sweep();
  EXPECT_EQ(room->num_chatters(), nc - 1);
}

// A request answered with news stops waiting: if the client does not ask
// again, its cid is forgotten after the client timeout; while it waited,
// the sweep kept it.
TEST_F(LongPollTest, AnAnsweredCidExpiresAfterTheClientTimeoutUnlessItReturns) {
  auto conn = waiting_poll();
  const size_t nc = room->num_chatters();
  post("hello");
  ASSERT_EQ(conn->responses.size(), 1u);
  time.advance(room->settings().client_timeout + seconds(1));
  room->sweep();
  EXPECT_EQ(room->num_chatters(), nc - 1);
}

// A moderation renumbers the posts: a JSON client waiting at its old pos
// is answered at once with the new pos and what came since the reload
// (nothing here), not with the whole live log, which it could not tell
// from new posts (docs/PROTOCOL.md, "pos is the room's post sequence
// number").
TEST_F(LongPollTest, AWaitingJsonClientIsToldTheNewPosAfterAModeration) {
  post("a");
  post("b");
  post("c");
  auto conn = waiting_poll();  // at pos 3
  store->rewrite(rooms_test::make_snapshot(2, 2));
  ASSERT_TRUE(room->reload());
  io.poll();
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_EQ(r.pos, 2u);
  EXPECT_TRUE(r.texts.empty());
  EXPECT_EQ(r.cid, cid) << "alone, a node keeps the cid";
  // Back at the new pos, it waits for what comes next, and gets it once.
  auto next = poll(cid, r.pos);
  EXPECT_TRUE(next->responses.empty());
  post("d");
  ASSERT_EQ(next->responses.size(), 1u);
  EXPECT_EQ(parse(next->responses[0]).texts, std::vector<std::string>{"d"});
}

// A node opened after a moderation (it never reloaded: its epoch is the
// first) is asked by a client whose cid another node gave out before the
// moderation. The client is started over: its first delta comes from the
// room, not from the deltas this thread keeps for readers at the same pos
// (live/delta_cache.h), which would take its pos as current.
TEST_F(LongPollTest, ACidFromBeforeAModerationIsStartedOverByANodeThatNeverReloaded) {
  auto log = std::make_shared<rooms_test::SharedLog>();
  rooms_test::write_elsewhere(*log, 3);
  rooms_test::moderate_elsewhere(*log, 1);  // numbering "1": posts 2 and 3 are 1 and 2
  open_shared_room(log);
  auto fresh = poll(std::nullopt, 1);  // a new reader at pos 1: this thread keeps its delta
  ASSERT_EQ(fresh->responses.size(), 1u);
  EXPECT_EQ(parse(fresh->responses[0]).texts, (std::vector<std::string>{"elsewhere 3"}));
  constexpr Cid kOld = 4242;
  room->cid_announced(kOld, "0");  // given out before the moderation
  auto back = poll(kOld, 1);
  room->settle();  // its new cid announced
  io.poll();
  ASSERT_EQ(back->responses.size(), 1u);
  Reply r = parse(back->responses[0]);
  EXPECT_NE(r.cid, kOld) << "started over under a new cid";
  EXPECT_EQ(r.texts, (std::vector<std::string>{"elsewhere 2", "elsewhere 3"}))
      << "started over: JSON goes on from the node's load, not from its old pos";
  EXPECT_EQ(r.pos, 2u);
}

// On several nodes (a shared store) the reply that starts a waiting client
// over also gives it a new cid, so that the other nodes do not start it
// over again (docs/SCALING.md, "Moderation"); it goes on under that cid.
// A room on a store other nodes write too (rooms_test::SharedFakeStore),
// with a request waiting at pos 3 when a moderation removes post 1: the
// room reloads and wakes it, and the reply that starts the client over
// under a new cid waits until the other nodes can know that cid, which is
// not while the commit thread is held (hold_then_wake(); release() lets it
// go).
class LongPollRenewalTest : public LongPollTest {
 protected:
  void SetUp() override {
    LongPollTest::SetUp();
    log = std::make_shared<rooms_test::SharedLog>();
    open_shared_room(log);
    room->store_changed(rooms_test::write_elsewhere(*log, 3));
    room->settle();
    conn = waiting_poll();                    // at pos 3
    rooms_test::moderate_elsewhere(*log, 1);  // a moderation removed post 1
    room->store_changed(std::nullopt);
    room->settle();  // reloaded: the request is woken (its wake-up is queued)
  }
  // Holds the commit thread, then runs the wake-up: the request is started
  // over, and its reply waits for the announcement.
  void hold_then_wake() {
    held = std::unique_lock(gate);
    std::atomic<bool> entered{false};
    room->check_writable([this, &entered](Status) {
      entered = true;
      std::lock_guard wait(gate);
    });
    ASSERT_TRUE(testing::wait_until([&] { return entered.load(); }));
    io.poll();
  }
  void TearDown() override {
    if (held.owns_lock()) held.unlock();
    LongPollTest::TearDown();
  }

  void release() {
    held.unlock();
    room->settle();
    io.poll();
  }

  int64_t waiting_readers() const { return room->metrics().readers(Transport::long_poll).value(); }

  std::shared_ptr<rooms_test::SharedLog> log;
  std::shared_ptr<FakeConnection> conn;
  std::mutex gate;
  std::unique_lock<std::mutex> held;
};

TEST_F(LongPollRenewalTest, AClientStartedOverOnSeveralNodesGoesOnUnderANewCid) {
  hold_then_wake();
  EXPECT_TRUE(conn->responses.empty());
  release();
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_EQ(r.pos, 2u);
  EXPECT_TRUE(r.texts.empty());
  EXPECT_NE(r.cid, cid);
  {
    std::lock_guard lock(log->mu);
    EXPECT_TRUE(log->cids.count(r.cid)) << "announced before the reply";
  }
  auto next = poll(r.cid, r.pos);
  EXPECT_TRUE(next->responses.empty()) << "current under its new cid: it waits";
  post("d");
  ASSERT_EQ(next->responses.size(), 1u);
  Reply n = parse(next->responses[0]);
  EXPECT_EQ(n.cid, r.cid);
  EXPECT_EQ(n.texts, std::vector<std::string>{"d"});
}

// While the reply waits for the announcement, the request has ended (the
// reply is decided): its timeouts, a post and the client going away have no
// effect, then or after, and the one reply still comes.
TEST_F(LongPollRenewalTest, NothingElseEndsARequestWhoseReplyWaitsForItsNewCid) {
  hold_then_wake();
  advance(kHard * 2);
  conn->disconnect();
  io.poll();
  EXPECT_EQ(endings(*conn), 0u);
  release();
  ASSERT_EQ(endings(*conn), 1u);
  EXPECT_NE(parse(conn->responses.at(0)).cid, cid);
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
  EXPECT_EQ(waiting_readers(), 0);
}

// A client whose request went away while its reply waited asks again with
// its old cid: it is started over again, under another new cid.
TEST_F(LongPollRenewalTest, AClientThatNeverHadItsNewCidIsStartedOverAgain) {
  hold_then_wake();
  conn->disconnect();
  io.poll();
  release();
  ASSERT_EQ(conn->responses.size(), 1u);  // sent to a connection gone: lost
  const Cid lost = parse(conn->responses[0]).cid;
  auto again = poll(cid, 3);
  room->settle();
  io.poll();
  ASSERT_EQ(again->responses.size(), 1u);
  Reply r = parse(again->responses[0]);
  EXPECT_EQ(r.pos, 2u);
  EXPECT_NE(r.cid, cid);
  EXPECT_NE(r.cid, lost);
  EXPECT_EQ(waiting_readers(), 0);
}

// The server stops before the new cid can be told to the other nodes (the
// commit thread has exited): the reply goes anyway, as the one ending.
TEST_F(LongPollRenewalTest, TheReplyGoesWhenTheServerStopsBeforeTheAnnouncement) {
  room->close();
  io.poll();
  ASSERT_EQ(endings(*conn), 1u);
  Reply r = parse(conn->responses.at(0));
  EXPECT_EQ(r.pos, 2u);
  EXPECT_NE(r.cid, cid);
  std::lock_guard lock(log->mu);
  EXPECT_FALSE(log->cids.count(r.cid)) << "nobody was told";
}

// The events that end a request may cross on the strand: a wake-up or a
// timeout already queued when the client goes away must send nothing.
TEST_F(LongPollTest, AWakeUpQueuedBeforeADisconnectSendsNothing) {
  auto conn = waiting_poll();
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "too late"));  // its wake-up is queued, not run
  conn->disconnect();
  io.poll();
  EXPECT_EQ(endings(*conn), 0u);
}

TEST_F(LongPollTest, ATimeoutQueuedBeforeADisconnectSendsNothing) {
  auto conn = waiting_poll();
  room->allocate_cid("198.51.100.7");  // the count changed: the soft timeout would ping
  time.advance(kSoft);                 // its handler is queued, not run
  conn->disconnect();
  io.poll();
  EXPECT_EQ(endings(*conn), 0u);
}

TEST_F(LongPollTest, AWakeUpQueuedBeforeTheTimeoutEndsItOnce) {
  auto conn = waiting_poll();
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "news"));  // the loop's wake-up task is queued
  time.advance(kHard);                                          // and the timeout behind it
  io.poll();
  ASSERT_EQ(endings(*conn), 1u);
  EXPECT_EQ(parse(conn->responses.at(0)).texts, std::vector<std::string>{"news"});
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
}

// The requests of one event loop are woken by one task of the room's
// fan-out, a slice at a time (rooms/fan_out.h), not by a handler each.
TEST_F(LongPollTest, TheRequestsOfALoopAreWokenByOneTaskInSlices) {
  constexpr size_t kRequests = 3 * kWakeSlice;
  std::vector<std::shared_ptr<FakeConnection>> conns;
  for (size_t i = 0; i < kRequests; ++i) {
    conns.push_back(waiting_poll());
    ASSERT_TRUE(conns.back()->responses.empty());
  }
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "hello all"));
  const size_t handlers = io.poll();
  EXPECT_EQ(handlers, kRequests / kWakeSlice);
  for (auto& c : conns) {
    ASSERT_EQ(endings(*c), 1u);
    EXPECT_EQ(parse(c->responses.at(0)).texts, std::vector<std::string>{"hello all"});
  }
}

// A newer request of the same cid drops it while the older one's wake-up
// with news is queued: the older one is closed without a reply, even
// though it has news (docs/PROTOCOL.md, "The comet long-poll").
TEST_F(LongPollTest, AWakeUpWithNewsAfterItsCidWasDroppedClosesWithoutAReply) {
  auto old_conn = waiting_poll();
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "news"));  // its wake-up is queued
  auto new_conn = poll(cid, room->status().sequence - 1);       // the duplicate; both run here
  expect_dropped_for(*old_conn, *new_conn);
}

// What a round trip costs the room's lock, which every event loop shares
// (rooms/room.h): a request that finds nothing new is admitted and waits
// in one take; woken with news, a reader takes it for the delta (only the
// first reader of its thread: live/delta_cache.h) and for its ending.
TEST_F(LongPollTest, ARoundTripTakesTheRoomsLockOnceToWaitAndOnceToEnd) {
  std::vector<Cid> cids;
  for (int i = 0; i < 2; ++i) cids.push_back(parse(poll(std::nullopt, 0)->responses.at(0)).cid);
  const uint64_t pos = room->sequence();
  std::vector<std::shared_ptr<FakeConnection>> conns;
  for (Cid c : cids) {
    const uint64_t before = room->lock_takes();
    conns.push_back(poll(c, pos));
    ASSERT_TRUE(conns.back()->responses.empty());
    EXPECT_EQ(room->lock_takes() - before, 1u) << "admitted and waiting in one take";
  }
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "hello"));
  const uint64_t before = room->lock_takes();
  io.poll();
  for (auto& c : conns) ASSERT_EQ(c->responses.size(), 1u);
  EXPECT_EQ(room->lock_takes() - before, 3u) << "one delta for both, and each one's ending";
}

// The server stopping ends a waiting request once, with an empty reply in
// the protocol's shape (the client simply asks again, docs/PROTOCOL.md,
// "When the server stops"): its cid and pos, no content.
TEST_F(LongPollTest, AWaitingRequestGetsAnEmptyReplyWhenTheServerStops) {
  auto conn = waiting_poll();
  const uint64_t pos = room->status().sequence;
  room->stop_readers();
  io.poll();
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_EQ(r.cid, cid);
  EXPECT_EQ(r.pos, pos);
  EXPECT_TRUE(r.texts.empty());
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
  EXPECT_EQ(room->waiting_readers(), 0u);
}

// A request that comes while the server stops does not wait: it is
// answered at once, empty, and the room holds no waiter for it.
TEST_F(LongPollTest, ARequestArrivingWhileTheServerStopsIsAnsweredAtOnce) {
  auto first = poll(std::nullopt, room->status().sequence);
  cid = parse(first->responses.at(0)).cid;
  room->stop_readers();
  auto conn = poll(cid, room->status().sequence);
  ASSERT_EQ(conn->responses.size(), 1u);
  Reply r = parse(conn->responses[0]);
  EXPECT_EQ(r.cid, cid);
  EXPECT_TRUE(r.texts.empty());
  EXPECT_EQ(room->waiting_readers(), 0u);
  everything_else_happens(*conn);
  EXPECT_EQ(endings(*conn), 1u);
}

// A request still waiting is not idle: the sweep keeps its cid.
TEST_F(LongPollTest, AWaitingRequestKeepsItsCid) {
  auto conn = waiting_poll();
  const size_t nc = room->num_chatters();
  time.advance(room->settings().client_timeout + seconds(1));
  room->sweep();
  io.poll();
  EXPECT_EQ(room->num_chatters(), nc);
  EXPECT_TRUE(conn->responses.empty());
}

}  // namespace
}  // namespace chaton::live
