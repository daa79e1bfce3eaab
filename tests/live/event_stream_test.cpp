// Tests for the Server-Sent Events stream (docs/PROTOCOL.md, "Push
// streams") without a socket or real time: a FakeConnection records the
// bytes pushed, a SimulatedTimeSource drives the heartbeat.
#include "live/event_stream.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include <boost/json/parse.hpp>

#include "live/delta_packet.h"
#include "rooms/fake_store.h"
#include "rooms/room_helpers.h"
#include "support/fake_connection.h"
#include "support/simulated_time.h"

namespace chaton::live {
namespace {

using std::chrono::seconds;

class EventStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    room = std::make_shared<Room>(testing::lobby_settings(true), std::make_unique<rooms_test::FakeStore>(),
                                  time);
    ASSERT_TRUE(room->open(nullptr));
    CometConfig timing;
    timing.soft_timeout_min = timing.soft_timeout_max = 30;
    conn = std::make_shared<testing::FakeConnection>(io.get_executor());
    start_event_stream(room, conn->exchange("/lobby/events"), 0, PacketFormat::json, timing, time);
    io.poll();
    conn->finish_writes();
    io.poll();
  }
  void TearDown() override {
    conn->disconnect();
    io.poll();
    room->close();
  }

  void advance(std::chrono::steady_clock::duration d) {
    time.advance(d);
    io.poll();
  }

  testing::SimulatedTimeSource time{from_seconds(1732460000)};
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::shared_ptr<Room> room;
  std::shared_ptr<testing::FakeConnection> conn;
};

TEST_F(EventStreamTest, AnIdleStreamGetsAKeepaliveCommentAtEachSoftTimeout) {
  ASSERT_TRUE(conn->streaming);
  ASSERT_EQ(conn->chunks.size(), 2u);  // the retry delay, then the first packet
  EXPECT_EQ(conn->chunks[0], "retry: 5000\n\n");
  EXPECT_TRUE(conn->chunks[1].starts_with("id: 0\ndata: {")) << conn->chunks[1];
  advance(seconds(29));
  EXPECT_EQ(conn->chunks.size(), 2u);
  advance(seconds(1));
  ASSERT_EQ(conn->chunks.size(), 3u);
  EXPECT_EQ(conn->chunks[2], ": keepalive\n\n");
  advance(seconds(30));
  ASSERT_EQ(conn->chunks.size(), 4u);
  EXPECT_EQ(conn->chunks[3], ": keepalive\n\n");
}

TEST_F(EventStreamTest, APostIsAnEventAndADisconnectStopsTheHeartbeat) {
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "hello"));
  io.poll();
  ASSERT_EQ(conn->chunks.size(), 3u);
  EXPECT_TRUE(conn->chunks[2].starts_with("id: 1\ndata: {")) << conn->chunks[2];
  EXPECT_NE(conn->chunks[2].find("hello"), std::string::npos);
  conn->finish_writes();
  io.poll();
  conn->disconnect();
  io.poll();
  advance(seconds(300));
  EXPECT_EQ(conn->chunks.size(), 3u);
  EXPECT_EQ(time.pending_timers(), 0u);
}

// An event is the packet a long-poll would get, framed as `id:`/`data:`
// lines; the room's rendered content in it is the same object for every
// reader (written from where it is, not copied per reader).
TEST_F(EventStreamTest, AnEventIsTheWholePacketFramedAndItsContentIsSharedByTheReaders) {
  CometConfig timing;
  timing.soft_timeout_min = timing.soft_timeout_max = 30;
  auto other = std::make_shared<testing::FakeConnection>(io.get_executor());
  start_event_stream(room, other->exchange("/lobby/events"), 0, PacketFormat::json, timing, time);
  io.poll();
  other->finish_writes();
  io.poll();
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "shared words"));
  io.poll();
  ASSERT_EQ(conn->chunks.size(), 3u);
  ASSERT_EQ(other->chunks.size(), 3u);

  const std::string& event = conn->chunks[2];
  const std::string data_line = "id: 1\ndata: ";
  ASSERT_TRUE(event.starts_with(data_line) && event.ends_with("\n\n")) << event;
  auto packet = boost::json::parse(event.substr(data_line.size(), event.size() - data_line.size() - 2));
  const Cid cid = packet.at("cid").as_int64();
  const Delta delta = room->delta_since(cid, 0, PacketFormat::json);
  EXPECT_EQ(event, data_line + make_delta_packet(*room, delta, cid, PacketFormat::json).bytes + "\n\n")
      << "the same bytes as the packet in one string";

  const http::StreamBytes& mine = conn->pieces[2];
  const http::StreamBytes& theirs = other->pieces[2];
  ASSERT_TRUE(mine.shared && theirs.shared);
  EXPECT_EQ(mine.shared.get(), theirs.shared.get()) << "one rendered content for both readers";
  EXPECT_NE(mine.shared->find("shared words"), std::string::npos);
  EXPECT_EQ(mine.tail, "}\n\n");
  other->disconnect();
  io.poll();
}

// A stream reader waits for hours: the feed keeps the connection to push
// to, not the request's Exchange, which goes once the handler is done.
TEST_F(EventStreamTest, TheStreamDoesNotKeepItsExchange) {
  auto other = std::make_shared<testing::FakeConnection>(io.get_executor());
  http::ExchangePtr ex = other->exchange("/lobby/events");
  std::weak_ptr<http::Exchange> gone = ex;
  CometConfig timing;
  timing.soft_timeout_min = timing.soft_timeout_max = 30;
  start_event_stream(room, ex, 0, PacketFormat::json, timing, time);
  ex.reset();
  io.poll();
  EXPECT_TRUE(gone.expired()) << "the stream keeps its Exchange";
  other->finish_writes();
  io.poll();
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "still here"));
  io.poll();
  ASSERT_FALSE(other->chunks.empty());
  EXPECT_NE(other->chunks.back().find("still here"), std::string::npos) << other->chunks.back();
  other->disconnect();
  io.poll();
}

// The server stopping ends the stream with a short `retry:` (the reader
// comes back soon, to the restarted server) and then closes it, once the
// retry is written (docs/PROTOCOL.md, "When the server stops").
TEST_F(EventStreamTest, TheServerStoppingSendsAShortRetryThenCloses) {
  const size_t before = conn->chunks.size();
  room->stop_readers();
  io.poll();
  ASSERT_EQ(conn->chunks.size(), before + 1);
  EXPECT_EQ(conn->chunks.back(), "retry: " + std::to_string(kStoppingRetryMillis) + "\n\n");
  EXPECT_EQ(conn->closes, 0) << "not before the retry is written";
  conn->finish_writes();
  io.poll();
  EXPECT_EQ(conn->closes, 1);
  ASSERT_TRUE(testing::post_and_settle(*room, "bot", "too late"));
  advance(seconds(300));
  EXPECT_EQ(conn->chunks.size(), before + 1);
  EXPECT_EQ(conn->closes, 1);
}

}  // namespace
}  // namespace chaton::live
