// Sessions over loopback: the disconnect watch of a request left waiting.
// The watch starts once the request has waited kDisconnectWatchDelay: no
// receive is out before, and a client gone meanwhile is seen gone then; a
// delay that ends after the reply starts nothing. A client that closes while
// its request waits ends it exactly once; bytes it sends meanwhile are not a
// close; a watch armed for an answered request does not fire on the next
// one. And a prepared response goes out whole:
// at once, with nothing left queued, when the socket takes it all; the rest
// later when it does not. A stream's piece the socket takes whole is done
// where it is pushed; a long poll answered inside a burst (util/burst.h)
// reads its next request only once the burst's follow-ups run; the receive
// that watched a long poll is the one that reads the next request;
// pipelined requests are served in turn; a client that half-closes still
// gets its whole reply.
#include "http/session.h"

#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/prepared_response.h"
#include "http/responses.h"
#include "support/allocation_count.h"
#include "support/simulated_time.h"
#include "util/block_cache.h"
#include "util/burst.h"

namespace chaton::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Leaves every request waiting, watched; counts the disconnects.
class WaitingHandler final : public Handler {
 public:
  void handle(const ExchangePtr& ex) override {
    exchanges.push_back(ex);
    ex->watch_disconnect([this] { ++gone; });
  }
  UpgradeDecision upgrade(const Request&, const std::string&) override { return {}; }

  std::vector<ExchangePtr> exchanges;
  int gone = 0;
};

class SessionTest : public ::testing::Test {
 protected:
  // On simulated time: the session's timers are no timers of Asio's, so
  // what the loop has left to run is the session's own work alone, and a
  // delay passes when a test says so.
  SessionTest() { limits_.time = &time_; }

  void SetUp() override {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(net::ip::address_v4::loopback(), 0));
    acceptor_.listen();
    client_.connect(acceptor_.local_endpoint());
    tcp::socket server(io_);
    acceptor_.accept(server);
    server_fd_ = server.native_handle();
    start_session(std::move(server), handler_, limits_, nullptr);
  }

  void send(std::string_view bytes) { net::write(client_, net::buffer(bytes)); }

  // Runs the server's side until `done` holds, or 3 s pass.
  bool run_until(const std::function<bool()>& done) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!done() && std::chrono::steady_clock::now() < until) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }
  // Reads one response on a thread of its own while the server's side
  // runs (a reply too large for the socket needs both); what was read, or
  // less if the reply did not come within run_until's time.
  std::string read_response_while_serving() {
    std::string reply;
    std::atomic<bool> read{false};
    std::thread client([&] {
      try {
        reply = read_response();
      } catch (const std::exception&) {  // cut below: the reply did not come
      }
      read = true;
    });
    const bool done = run_until([&] { return read.load(); });
    EXPECT_TRUE(done) << "the reply did not come";
    if (!done) ::shutdown(client_.native_handle(), SHUT_RDWR);  // unblocks the client's read
    client.join();
    return reply;
  }
  void run_a_little() {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(50));
  }

  void answer_in_a_burst_then_ask_again(bool watched);

  // Reads one response with a Content-Length from the client's side.
  std::string read_response() {
    std::string in;
    size_t header_end = net::read_until(client_, net::dynamic_buffer(in), "\r\n\r\n");
    auto at = in.find("Content-Length: ");
    size_t length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
    if (in.size() < header_end + length)
      net::read(client_, net::dynamic_buffer(in), net::transfer_exactly(header_end + length - in.size()));
    return in;
  }

  // The waiting request's watch delay passes (kDisconnectWatchDelay): its
  // disconnect watch starts.
  void watch() {
    time_.advance(kDisconnectWatchDelay);
    run_a_little();
  }

  testing::SimulatedTimeSource time_;
  net::io_context io_;
  tcp::acceptor acceptor_{io_};
  // The client's own context, which no test runs: its socket's readiness
  // is no work for the server's loop (AReplyTheSocketTakesAtOnce...).
  net::io_context client_io_;
  tcp::socket client_{client_io_};
  WaitingHandler handler_;
  SessionLimits limits_;
  int server_fd_ = -1;  // the session's socket, to see what it left unread
};

// The bytes the server's side of the connection has received and not read.
size_t unread(int fd) {
  int n = 0;
  return ::ioctl(fd, FIONREAD, &n) == 0 ? static_cast<size_t>(n) : 0;
}

constexpr std::string_view kRequest = "GET /lobby/comet?p=0&s=0 HTTP/1.1\r\nHost: x\r\n\r\n";

// The header of a long poll's JSON reply.
const ResponseHead* json_head() {
  static const ResponseHead head = [] {
    Response res = make_response(bhttp::status::ok, "application/json; charset=utf-8", "");
    res.set(bhttp::field::cache_control, "no-cache");
    return ResponseHead(res);
  }();
  return &head;
}

TEST_F(SessionTest, AClientThatClosesWhileWaitingEndsItsRequestOnce) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  watch();
  EXPECT_EQ(handler_.gone, 0);  // waiting, watched, not gone
  client_.close();
  EXPECT_TRUE(run_until([&] { return handler_.gone > 0; }));
  run_a_little();
  EXPECT_EQ(handler_.gone, 1);
}

// Until a request has waited kDisconnectWatchDelay, no receive is out for
// it: what the client sends stays in the socket.
TEST_F(SessionTest, ARequestIsWatchedOnlyOnceItHasWaitedTheWatchDelay) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  send("GET /lob");  // the start of a next request
  time_.advance(kDisconnectWatchDelay - std::chrono::milliseconds(1));
  run_a_little();
  EXPECT_EQ(unread(server_fd_), 8u) << "a receive is out before the watch delay passed";
  time_.advance(std::chrono::milliseconds(1));
  run_a_little();
  EXPECT_EQ(unread(server_fd_), 0u) << "the watch's receive did not start";
  EXPECT_EQ(handler_.gone, 0);
}

// A client gone before the watch starts is seen gone once it starts,
// exactly once.
TEST_F(SessionTest, AClientGoneBeforeTheWatchStartsIsSeenGoneWhenItStarts) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  client_.close();
  run_a_little();
  EXPECT_EQ(handler_.gone, 0) << "watched before the watch delay passed";
  watch();
  EXPECT_TRUE(run_until([&] { return handler_.gone > 0; }));
  run_a_little();
  EXPECT_EQ(handler_.gone, 1);
}

TEST_F(SessionTest, BytesSentWhileWaitingAreNotAClose) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  watch();
  send("GET /lob");  // the start of a next request
  run_a_little();
  EXPECT_EQ(unread(server_fd_), 0u) << "taken by the watch's receive";
  EXPECT_EQ(handler_.gone, 0);
  // Answered, the connection reads on: the next request is whole once it ends.
  handler_.exchanges[0]->respond(error_response(bhttp::status::not_found, "no"));
  send("by/comet?p=0&s=0 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(run_until([&] { return handler_.exchanges.size() == 2; }));
  EXPECT_EQ(handler_.exchanges[1]->request().target(), "/lobby/comet?p=0&s=0");
  EXPECT_EQ(handler_.gone, 0);
}

TEST_F(SessionTest, AWatchForAnAnsweredRequestDoesNotEndTheNext) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  watch();
  handler_.exchanges[0]->respond(
      PreparedResponse{json_head(), "{\"a\":", std::make_shared<const std::string>("[1,2]"), "}"});
  run_a_little();
  std::string reply = read_response();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_TRUE(reply.ends_with("\r\nContent-Length: 11\r\n\r\n{\"a\":[1,2]}")) << reply;

  send(kRequest);  // the next request, on the same connection, also waits
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 2; }));
  watch();
  EXPECT_EQ(handler_.gone, 0);
  client_.close();
  EXPECT_TRUE(run_until([&] { return handler_.gone > 0; }));
  run_a_little();
  EXPECT_EQ(handler_.gone, 1);
}

// A reply that the socket takes whole is done where it is sent: its
// write leaves no completion handler to run on the loop.
TEST_F(SessionTest, AReplyTheSocketTakesAtOnceLeavesNothingQueued) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  watch();  // waiting, its disconnect watched
  net::post(io_, [&] {
    handler_.exchanges[0]->respond(
        PreparedResponse{json_head(), "[", std::make_shared<const std::string>("1,2"), "]"});
  });
  io_.restart();
  ASSERT_EQ(io_.run_one(), 1u);  // the reply, sent from the loop as a fan-out does
  EXPECT_EQ(io_.poll(), 0u);     // nothing of it left to run
  std::string reply = read_response();
  EXPECT_TRUE(reply.ends_with("\r\nContent-Length: 5\r\n\r\n[1,2]")) << reply;
}

// A long poll's disconnect watch is the session's one receive: the
// client's next request, sent once the reply is in, is read by that receive
// and handed out by its completion, with no second receive started for it.
TEST_F(SessionTest, TheReceiveThatWatchedALongPollReadsTheNextRequest) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  watch();  // waiting, its disconnect watched
  net::post(io_, [&] {
    handler_.exchanges[0]->respond(
        PreparedResponse{json_head(), "[", std::make_shared<const std::string>("1"), "]"});
  });
  io_.restart();
  ASSERT_EQ(io_.run_one(), 1u);  // the reply, written at once
  EXPECT_EQ(io_.poll(), 0u);
  EXPECT_TRUE(read_response().ends_with("[1]"));
  send(kRequest);  // the client asks again
  io_.restart();
  ASSERT_EQ(io_.run_one(), 1u);  // one completion
  EXPECT_EQ(handler_.exchanges.size(), 2u) << "handed out by the completion of the receive that watched";
  EXPECT_EQ(handler_.gone, 0);
}

// Once a session has made a long poll's round trip, the next ones take
// their objects (the request's parser, header field and target, the
// exchange, the receive's operation, the reply's layout) from the loop's
// block cache (util/block_cache.h), where the last round trip left them,
// not from the heap. Counted: the server's side, reading the request and
// handing it out, then answering it and starting the next read (not the
// test's advancing of time, nor its client).
TEST_F(SessionTest, ARoundTripAfterTheFirstTakesItsObjectsFromTheBlockCache) {
#if !defined(CHATON_COUNTS_ALLOCATIONS)
  GTEST_SKIP() << "allocations are not counted under a sanitizer";
#endif
  block_cache::use_on_this_thread();  // the test's thread runs the session's loop
  const auto head = json_head();
  const auto posts = std::make_shared<const std::string>("1");
  std::vector<size_t> counted;
  for (int i = 0; i < 3; ++i) {
    send(kRequest);
    size_t before = testing::allocations;
    ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
    size_t made = testing::allocations - before;
    watch();  // waiting, its disconnect watched
    ExchangePtr ex = std::move(handler_.exchanges.front());
    handler_.exchanges.clear();
    before = testing::allocations;
    ex->respond(PreparedResponse{head, "[", posts, "]"});
    ex.reset();
    run_a_little();  // written; the next request's read starts
    counted.push_back(made + testing::allocations - before);
    EXPECT_TRUE(read_response().ends_with("[1]"));
  }
  EXPECT_EQ(counted[1], 0u) << "the first round trip made " << counted[0];
  EXPECT_EQ(counted[2], 0u);
}

// Requests sent together are served in turn, each once: the second waits
// in the buffer while the first is answered, and a third, sent after, is
// read whole (no receive is left out into bytes not yet parsed).
TEST_F(SessionTest, PipelinedLongPollsAreServedInTurn) {
  auto poll = [](int p) {
    return "GET /lobby/comet?p=" + std::to_string(p) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  };
  send(poll(1) + poll(2));
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  watch();  // behind bytes not yet parsed: the watch peeks
  for (size_t i = 0; i < 3; ++i) {
    handler_.exchanges[i]->respond(
        PreparedResponse{json_head(), "[", std::make_shared<const std::string>(std::to_string(i)), "]"});
    if (i == 1) send(poll(3));
    ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == i + 2 || i == 2; }));
    watch();
    EXPECT_TRUE(read_response().ends_with("[" + std::to_string(i) + "]"));
  }
  ASSERT_EQ(handler_.exchanges.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(handler_.exchanges[i]->request().target(), "/lobby/comet?p=" + std::to_string(i + 1));
  EXPECT_EQ(handler_.gone, 0);
}

// A stream's piece that the socket takes whole is done where it is pushed
// (http/write_now.h): no write, stall check or completion is left to run,
// and what was to run once it is written has run.
TEST_F(SessionTest, AStreamPieceTheSocketTakesAtOnceLeavesNothingQueued) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  ResponseStream stream = handler_.exchanges[0]->start_stream(Response{bhttp::status::ok, 11});
  std::string in;
  ASSERT_TRUE(run_until([&] { return client_.available() > 0; }));  // the header went out
  net::read_until(client_, net::dynamic_buffer(in), "\r\n\r\n");
  in.clear();
  run_a_little();
  bool written = false;
  net::post(io_, [&] {
    EXPECT_TRUE(stream.push(StreamBytes("data: ", std::make_shared<const std::string>("hi"), "\n\n"),
                            [&written] { written = true; }));
  });
  io_.restart();
  ASSERT_EQ(io_.run_one(), 1u);  // the push, from the loop as a fan-out does
  EXPECT_TRUE(written) << "its bytes are out, and its callback has run";
  EXPECT_EQ(io_.poll(), 0u);  // nothing of it left to run
  net::read(client_, net::dynamic_buffer(in), net::transfer_exactly(10));
  EXPECT_EQ(in, "data: hi\n\n");
}

// A long poll answered while the fan-out wakes its loop's readers (inside a
// burst, util/burst.h) reads its next request only once the burst's
// follow-ups run: the readers after it get their replies first. The receive
// that watched it stops (or its watch had not started), so the next request
// stays in the socket meanwhile, and the watch delay ending then starts
// nothing.
void SessionTest::answer_in_a_burst_then_ask_again(bool watched) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  if (watched) {
    watch();
  } else {
    run_a_little();
  }
  std::vector<BurstTask> burst;
  net::post(io_, [&] {
    BurstScope scope(burst);
    handler_.exchanges[0]->respond(
        PreparedResponse{json_head(), "[", std::make_shared<const std::string>("1"), "]"});
  });
  io_.restart();
  ASSERT_EQ(io_.run_one(), 1u);
  EXPECT_EQ(burst.size(), 1u) << "the next read is set aside";
  EXPECT_TRUE(read_response().ends_with("[1]"));
  send(kRequest);  // the client asks again at once
  run_a_little();
  EXPECT_EQ(handler_.exchanges.size(), 1u) << "read during the burst";
  EXPECT_EQ(unread(server_fd_), kRequest.size()) << "received between the fan-out's slices";
  if (!watched) {
    watch();  // the answered request's watch delay ends, still in the burst
    EXPECT_EQ(unread(server_fd_), kRequest.size()) << "a watch started for an answered request";
  }
  net::post(io_, [&] {
    for (auto& task : burst) task();
    burst.clear();
  });
  EXPECT_TRUE(run_until([&] { return handler_.exchanges.size() == 2; }));
  EXPECT_EQ(handler_.gone, 0);
}

TEST_F(SessionTest, ALongPollAnsweredInABurstReadsItsNextRequestAfterIt) {
  answer_in_a_burst_then_ask_again(true);
}

TEST_F(SessionTest, ALongPollAnsweredInABurstBeforeItsWatchStartsReadsItsNextRequestAfterIt) {
  answer_in_a_burst_then_ask_again(false);
}

// A reply larger than the socket takes at once goes out whole, in order,
// as the client reads it.
TEST_F(SessionTest, AReplyLargerThanTheSocketTakesGoesOutWhole) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  std::string body(4 << 20, ' ');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 23);
  net::post(io_, [&] {
    handler_.exchanges[0]->respond(
        PreparedResponse{json_head(), "<", std::make_shared<const std::string>(body), ">"});
  });
  io_.restart();
  ASSERT_EQ(io_.run_one(), 1u);  // sent while nobody reads: the socket takes a part
  std::string reply = read_response_while_serving();
  ASSERT_TRUE(reply.ends_with(">")) << reply.size();
  ASSERT_GE(reply.size(), body.size() + 2);
  EXPECT_EQ(reply.substr(reply.size() - body.size() - 2), "<" + body + ">");
}

// A client that ends its side of the connection once it has asked (a
// half-close) still gets the whole reply, however long it takes to write.
TEST_F(SessionTest, AClientThatHalfClosesWhileItsReplyIsWrittenGetsItWhole) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  watch();  // waiting, its disconnect watched
  std::string body(4 << 20, 'x');
  net::post(io_, [&] {
    handler_.exchanges[0]->respond(
        PreparedResponse{json_head(), "<", std::make_shared<const std::string>(body), ">"});
  });
  io_.restart();
  ASSERT_EQ(io_.run_one(), 1u);  // the socket takes a part
  client_.shutdown(tcp::socket::shutdown_send);
  run_a_little();  // the end of the client's side reaches the server
  EXPECT_TRUE(read_response_while_serving().ends_with(">"));
}

}  // namespace
}  // namespace chaton::http
