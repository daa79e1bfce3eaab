// Tests for RoomFeed, the logic of a long-lived reader (SSE, WebSocket),
// without a socket: a recording transport whose writes complete only when
// the test says so, over a Room on a FakeStore, all on one io_context that
// the test runs by hand (so a wake-up waits until the test polls), with
// simulated time (the soft timeouts fire when the test advances it).
#include "live/room_feed.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rooms/fake_store.h"
#include "rooms/room_helpers.h"
#include "support/simulated_time.h"

namespace chaton::live {
namespace {

namespace json = boost::json;

class RecordingFeed final : public RoomFeed {
 public:
  using RoomFeed::RoomFeed;

  struct Sent {
    uint64_t pos = 0;
    size_t nc = 0;
    std::vector<std::string> texts;
    bool catch_up = false;
  };
  std::vector<Sent> sent;
  std::vector<Callback> unwritten;  // write callbacks not run yet
  int cut = 0;
  int heartbeats = 0;
  int told_to_reconnect = 0;
  bool write_at_once = false;    // each packet is written before deliver() returns
  bool stop_in_deliver = false;  // the next packet's write fails before deliver() returns

  // Completes every write handed over so far (as the socket would).
  void finish_writes() {
    auto done = std::move(unwritten);
    unwritten.clear();
    for (auto& f : done) f();
  }

 private:
  bool deliver(uint64_t pos, http::StreamBytes packet, Callback written,
               bool catch_up) override {
    const json::object doc = json::parse(packet.joined()).as_object();
    Sent s;
    s.pos = pos;
    s.nc = doc.at("nc").to_number<size_t>();
    for (const json::value& v : doc.at("content").as_array())
      s.texts.emplace_back(v.as_array().at(2).as_string());
    s.catch_up = catch_up;
    sent.push_back(std::move(s));
    if (stop_in_deliver) {  // a socket that fails at once: the transport ends the feed inside deliver()
      stop();
      return true;
    }
    if (write_at_once)
      written();  // a socket that takes the packet whole: written before deliver() returns
    else
      unwritten.push_back(std::move(written));
    return true;
  }
  void cut_off() override { ++cut; }
  void heartbeat() override { ++heartbeats; }
  void server_stopping() override { ++told_to_reconnect; }
};

class RoomFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<rooms_test::FakeStore>();
    store = fake.get();
    room = std::make_shared<Room>(testing::lobby_settings(true), std::move(fake), time);
    ASSERT_TRUE(room->open(nullptr));
  }
  void TearDown() override {
    if (feed) {
      feed->stop();
      // Writes never completed are dropped, as a transport's queue drops
      // them when it ends: each callback owns the feed.
      feed->unwritten.clear();
    }
    io.poll();
    room->close();
  }

  void start_feed(uint64_t pos, double soft_timeout = 30) {
    CometConfig timing;
    timing.soft_timeout_min = timing.soft_timeout_max = soft_timeout;
    feed = std::make_shared<RecordingFeed>(room, io.get_executor(), pos, PacketFormat::json, timing, time,
                                           Transport::sse);
    feed->start("192.0.2.1");
    io.poll();
  }

  // Posts "p<first>".."p<first+n-1>" (each committed and its readers woken;
  // the feed runs only when the test polls).
  void post_many(size_t first, size_t n, size_t pad = 0) {
    for (size_t i = first; i < first + n; ++i) {
      std::string text = "p" + std::to_string(i) + std::string(pad, 'x');
      ASSERT_TRUE(testing::post_and_settle(*room, "bot", text));
    }
  }

  // Writes everything the feed hands over until it waits, and returns the
  // texts it sent, in order, without their padding.
  std::vector<std::string> drain() {
    std::vector<std::string> texts;
    size_t seen = 0;
    for (int round = 0; round < 100; ++round) {
      io.poll();
      for (; seen < feed->sent.size(); ++seen)
        for (const std::string& t : feed->sent[seen].texts) texts.push_back(t.substr(0, t.find('x')));
      if (feed->unwritten.empty()) break;
      EXPECT_EQ(feed->unwritten.size(), 1u) << "one piece at a time";
      feed->finish_writes();
    }
    return texts;
  }

  static std::vector<std::string> expected(size_t first, size_t n) {
    std::vector<std::string> out;
    for (size_t i = first; i < first + n; ++i) out.push_back("p" + std::to_string(i));
    return out;
  }

  // Soft timeouts of `seconds` each, `n` times, each followed by a poll.
  void soft_timeouts(int n, double seconds = 1) {
    for (int i = 0; i < n; ++i) {
      time.advance(seconds_as_duration(seconds));
      io.poll();
    }
  }

  testing::SimulatedTimeSource time{from_seconds(1732460000)};
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::shared_ptr<Room> room;
  rooms_test::FakeStore* store = nullptr;  // owned by the room
  std::shared_ptr<RecordingFeed> feed;
};

// A moderation renumbers the posts: a JSON feed from before it is sent the
// new pos with what came since the reload (nothing here), not the whole
// live log; then each new post once (docs/PROTOCOL.md, "pos is the room's
// post sequence number").
TEST_F(RoomFeedTest, AJsonFeedIsSentTheNewPosAfterAModeration) {
  post_many(1, 3);
  start_feed(3);
  drain();
  const size_t before = feed->sent.size();
  store->rewrite(rooms_test::make_snapshot(2, 2));
  ASSERT_TRUE(room->reload());
  EXPECT_TRUE(drain().empty());
  ASSERT_EQ(feed->sent.size(), before + 1);
  EXPECT_EQ(feed->sent.back().pos, 2u);
  post_many(4, 1);
  EXPECT_EQ(drain(), expected(4, 1));
}

// A reader that is keeping up (waiting, nothing being written) and is woken
// by one batch of more than a packet's worth of posts is not behind: the
// batch comes in pieces, one at a time, each post once and in order.
TEST_F(RoomFeedTest, AnIdleReaderGetsABurstOfManyPostsInPieces) {
  start_feed(0);
  EXPECT_TRUE(drain().empty());
  const size_t n = kMaxPacketPosts + 50;
  post_many(1, n);
  std::vector<std::string> got = drain();
  EXPECT_EQ(feed->cut, 0);
  EXPECT_EQ(got, expected(1, n));
  EXPECT_GE(feed->sent.size(), 3u);  // the first packet, then two pieces
}

// A transport that writes each packet before deliver() returns (a socket
// that takes it at once): the catch-up, a burst and single posts still go
// out each post once, in order, one packet after the other.
TEST_F(RoomFeedTest, PacketsWrittenAtOnceCarryEachPostOnceInOrder) {
  const size_t n = kMaxPacketPosts * 2 + 10;
  post_many(1, n);
  CometConfig timing;
  feed = std::make_shared<RecordingFeed>(room, io.get_executor(), 0, PacketFormat::json, timing, time,
                                         Transport::sse);
  feed->write_at_once = true;
  feed->start("192.0.2.1");
  // drain() returns every post sent so far.
  EXPECT_EQ(drain(), expected(1, n)) << "the catch-up";
  EXPECT_GE(feed->sent.size(), 3u);
  post_many(n + 1, kMaxPacketPosts + 5);
  EXPECT_EQ(drain(), expected(1, n + kMaxPacketPosts + 5)) << "then a burst";
  post_many(n + kMaxPacketPosts + 6, 1);
  EXPECT_EQ(drain(), expected(1, n + kMaxPacketPosts + 6)) << "then a post";
  EXPECT_EQ(feed->cut, 0);
  EXPECT_TRUE(feed->unwritten.empty());
}

// A write that fails before deliver() returns ends the feed there: the
// feed does not wait on the room again (it would stay among its waiters
// until the next post), and nothing counts as delivered.
TEST_F(RoomFeedTest, AFeedEndedByAWriteThatFailedAtOnceIsNoLongerAWaiter) {
  start_feed(0);
  drain();
  EXPECT_EQ(room->waiting_readers(), 1u);
  const size_t before = feed->sent.size();
  feed->stop_in_deliver = true;
  post_many(1, 1);
  io.poll();
  ASSERT_EQ(feed->sent.size(), before + 1);  // the post's packet, whose write failed
  EXPECT_EQ(room->waiting_readers(), 0u);
  EXPECT_EQ(room->metrics().delivered(Transport::sse).value(), 0u);
}

TEST_F(RoomFeedTest, AnIdleReaderGetsABurstOfLongPostsInPieces) {
  start_feed(0);
  drain();
  const size_t pad = 2000;
  const size_t n = kMaxPacketBytes / pad + 5;
  post_many(1, n, pad);
  std::vector<std::string> got = drain();
  EXPECT_EQ(feed->cut, 0);
  EXPECT_EQ(got, expected(1, n));
}

// Once caught up, a reader that lets more than a packet's worth of posts
// pile up while a packet is still being written is behind: it is cut off.
TEST_F(RoomFeedTest, AReaderWithMoreThanAPacketPiledUpDuringAWriteIsCutOff) {
  start_feed(0);
  drain();
  post_many(1, 1);
  io.poll();
  ASSERT_EQ(feed->unwritten.size(), 1u);              // "p1" is being written
  for (size_t i = 2; i < kMaxPacketPosts + 3; ++i) {  // one commit batch each
    post_many(i, 1);
    io.poll();
  }
  EXPECT_EQ(feed->cut, 0);
  EXPECT_EQ(room->metrics().dropped_readers->value(), 0u);
  feed->finish_writes();
  io.poll();
  EXPECT_EQ(feed->cut, 1);
  EXPECT_EQ(room->metrics().dropped_readers->value(), 1u);
  EXPECT_EQ(room->metrics().readers(Transport::sse).value(), 0);  // stopped
}

// A feed counts in its room's readers while it runs, under its transport,
// and the posts it sends in the room's deliveries.
TEST_F(RoomFeedTest, CountsAsAReaderUntilStoppedAndCountsThePostsItSends) {
  post_many(1, 2);
  start_feed(0);
  EXPECT_EQ(room->metrics().readers(Transport::sse).value(), 1);
  EXPECT_EQ(room->metrics().readers(Transport::websocket).value(), 0);
  drain();
  post_many(3, 1);
  drain();
  EXPECT_EQ(room->metrics().delivered(Transport::sse).value(), 3u);
  feed->stop();
  feed->stop();  // once
  EXPECT_EQ(room->metrics().readers(Transport::sse).value(), 0);
}

// ... but less than a packet piled up during a write is sent as one packet.
TEST_F(RoomFeedTest, PostsPiledUpDuringAWriteComeAsOnePacket) {
  start_feed(0);
  drain();
  post_many(1, 1);
  io.poll();
  post_many(2, 20);
  std::vector<std::string> got = drain();
  EXPECT_EQ(feed->cut, 0);
  EXPECT_EQ(got, expected(1, 21));
  EXPECT_EQ(feed->sent.size(), 3u);
}

// The soft timeout never hands over a packet while one is being written,
// even when the chatters count changed: a reader that does not read gets
// nothing more queued. The count goes out once the write is done.
TEST_F(RoomFeedTest, TheSoftTimeoutSendsNothingWhileAWriteIsInFlight) {
  post_many(1, kMaxPacketPosts * 2);
  start_feed(0, 1);
  ASSERT_EQ(feed->sent.size(), 1u);  // the first piece of the catch-up, unwritten
  Cid other = room->allocate_cid("198.51.100.7");
  room->hold(other);
  const size_t nc = room->num_chatters();
  ASSERT_NE(feed->sent.back().nc, nc);
  soft_timeouts(20);
  EXPECT_EQ(feed->sent.size(), 1u);
  EXPECT_EQ(feed->unwritten.size(), 1u);
  feed->finish_writes();
  io.poll();
  ASSERT_EQ(feed->sent.size(), 2u);
  EXPECT_EQ(feed->sent.back().nc, nc);
}

// A count that changed while the last packet was being written, with no
// posts to send after it, goes out as an empty packet once it is written.
TEST_F(RoomFeedTest, AChangedCountHeldDuringAWriteIsSentAfterIt) {
  start_feed(0, 1);
  ASSERT_EQ(feed->sent.size(), 1u);  // the first packet, unwritten
  Cid other = room->allocate_cid("198.51.100.7");
  room->hold(other);
  const size_t nc = room->num_chatters();
  soft_timeouts(20);
  EXPECT_EQ(feed->sent.size(), 1u);
  feed->finish_writes();
  io.poll();
  ASSERT_EQ(feed->sent.size(), 2u);
  EXPECT_EQ(feed->sent.back().nc, nc);
  EXPECT_TRUE(feed->sent.back().texts.empty());
}

// An idle feed (nothing being written, the count unchanged) sends the
// transport's heartbeat at each soft timeout, and nothing before it.
TEST_F(RoomFeedTest, AnIdleFeedSendsAHeartbeatAtEachSoftTimeout) {
  start_feed(0, 30);
  drain();
  const size_t packets = feed->sent.size();
  soft_timeouts(1, 29);
  EXPECT_EQ(feed->heartbeats, 0);
  soft_timeouts(1);
  EXPECT_EQ(feed->heartbeats, 1);
  soft_timeouts(1, 30);
  EXPECT_EQ(feed->heartbeats, 2);
  EXPECT_EQ(feed->sent.size(), packets);  // a heartbeat is not a packet
}

// A feed with a write in flight is not idle: no heartbeat.
TEST_F(RoomFeedTest, NoHeartbeatWhileAWriteIsInFlight) {
  start_feed(0, 30);
  ASSERT_EQ(feed->unwritten.size(), 1u);  // the first packet, unwritten
  soft_timeouts(3, 30);
  EXPECT_EQ(feed->heartbeats, 0);
  feed->finish_writes();
  io.poll();
  soft_timeouts(1, 30);
  EXPECT_EQ(feed->heartbeats, 1);
}

// When the count changed, the soft timeout sends an empty packet with it
// instead of a heartbeat.
TEST_F(RoomFeedTest, TheSoftTimeoutSendsTheChangedCountInsteadOfAHeartbeat) {
  start_feed(0, 30);
  drain();
  const size_t packets = feed->sent.size();
  room->hold(room->allocate_cid("198.51.100.7"));
  soft_timeouts(1, 30);
  EXPECT_EQ(feed->heartbeats, 0);
  ASSERT_EQ(feed->sent.size(), packets + 1);
  EXPECT_EQ(feed->sent.back().nc, room->num_chatters());
  EXPECT_TRUE(feed->sent.back().texts.empty());
}

// A stopped feed neither sends nor keeps a timer armed.
TEST_F(RoomFeedTest, AStoppedFeedSendsNothingMore) {
  start_feed(0, 30);
  drain();
  const size_t packets = feed->sent.size();
  feed->stop();
  room->hold(room->allocate_cid("198.51.100.7"));
  post_many(1, 1);
  soft_timeouts(2, 30);
  EXPECT_EQ(feed->sent.size(), packets);
  EXPECT_EQ(feed->heartbeats, 0);
  EXPECT_EQ(time.pending_timers(), 0u);
}

// The server stopping ends a waiting feed once: its transport is told to
// send the reader away to come back (SSE: retry and close; WebSocket: 1012),
// and nothing is sent after it.
TEST_F(RoomFeedTest, AWaitingFeedIsToldToReconnectOnceWhenTheServerStops) {
  start_feed(0);
  drain();
  const size_t sent = feed->sent.size();
  room->stop_readers();
  io.poll();
  EXPECT_EQ(feed->told_to_reconnect, 1);
  post_many(1, 3);
  soft_timeouts(5, 30);
  drain();
  EXPECT_EQ(feed->sent.size(), sent);
  EXPECT_EQ(feed->told_to_reconnect, 1);
  EXPECT_EQ(feed->cut, 0);
  EXPECT_EQ(room->waiting_readers(), 0u);
}

// A feed with a packet being written when the server stops is told once,
// after what it had queued (the transport writes in order).
TEST_F(RoomFeedTest, AFeedWritingWhenTheServerStopsIsToldToReconnectOnce) {
  start_feed(0);
  drain();
  post_many(1, 1);
  io.poll();
  ASSERT_EQ(feed->unwritten.size(), 1u);
  room->stop_readers();
  io.poll();
  feed->finish_writes();
  io.poll();
  EXPECT_EQ(feed->told_to_reconnect, 1);
  post_many(2, 2);
  drain();
  EXPECT_EQ(feed->told_to_reconnect, 1);
  EXPECT_EQ(feed->cut, 0);
}

}  // namespace
}  // namespace chaton::live
