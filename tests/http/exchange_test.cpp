// Tests for the Exchange (src/http/exchange.h): a handler that waits lets go
// of its request's header fields, and the response still goes out as the
// request asked (keep-alive, version, HEAD); a streamed response's body
// goes on without its Exchange.
#include "http/exchange.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chaton::http {
namespace {

// Records what the exchange hands it.
class RecordingConnection final : public Connection {
 public:
  explicit RecordingConnection(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  boost::asio::any_io_executor executor() override { return executor_; }
  void send(Response, bool keep_alive, unsigned version, bool head_only) override {
    sent = Sent{keep_alive, version, head_only};
  }
  void send(PreparedResponse, bool keep_alive, unsigned version, bool head_only) override {
    sent = Sent{keep_alive, version, head_only};
  }
  void close() override { ++closes; }
  void watch_disconnect(Callback) override {}
  void start_stream(Response, unsigned) override { ++streams; }
  bool push(StreamChunk chunk) override {
    pushed.push_back(chunk.bytes.joined());
    return true;
  }

  struct Sent {
    bool keep_alive;
    unsigned version;
    bool head_only;
  };
  std::optional<Sent> sent;
  int streams = 0;
  std::vector<std::string> pushed;
  int closes = 0;

 private:
  boost::asio::any_io_executor executor_;
};

struct ExchangeTest : ::testing::Test {
  boost::asio::io_context io;
  std::shared_ptr<RecordingConnection> conn = std::make_shared<RecordingConnection>(io.get_executor());
};

TEST_F(ExchangeTest, ReleasingTheFieldsKeepsWhatTheResponseNeeds) {
  Request req{bhttp::verb::head, "/lobby/comet?p=3&s=0", 11};
  req.set(bhttp::field::host, "chat.example");
  req.set(bhttp::field::connection, "close");
  req.set(bhttp::field::user_agent, std::string(300, 'u'));
  auto ex = std::make_shared<Exchange>(conn, std::move(req), "192.0.2.1");
  ex->release_request_fields();
  EXPECT_EQ(ex->request().begin(), ex->request().end());  // no field left
  EXPECT_EQ(ex->request().target(), "/lobby/comet?p=3&s=0");
  EXPECT_EQ(ex->request().method(), bhttp::verb::head);
  ex->respond(Response{bhttp::status::ok, 11});
  io.poll();
  ASSERT_TRUE(conn->sent);
  EXPECT_FALSE(conn->sent->keep_alive);  // "Connection: close" was read before the fields went
  EXPECT_EQ(conn->sent->version, 11u);
  EXPECT_TRUE(conn->sent->head_only);
}

TEST_F(ExchangeTest, AKeptAliveRequestStaysKeptAliveAfterTheRelease) {
  Request req{bhttp::verb::get, "/lobby/comet", 10};
  req.set(bhttp::field::connection, "keep-alive");  // HTTP/1.0 keeps alive only when it asks
  auto ex = std::make_shared<Exchange>(conn, std::move(req), "192.0.2.1");
  ex->release_request_fields();
  ex->respond(Response{bhttp::status::ok, 10});
  io.poll();
  ASSERT_TRUE(conn->sent);
  EXPECT_TRUE(conn->sent->keep_alive);
  EXPECT_EQ(conn->sent->version, 10u);
  EXPECT_FALSE(conn->sent->head_only);
}

// A reader streams for hours: the stream it pushes to holds the connection,
// and the Exchange with its request goes once the handler lets go of it.
TEST_F(ExchangeTest, AStreamGoesOnWithoutItsExchange) {
  auto ex = std::make_shared<Exchange>(conn, Request{bhttp::verb::get, "/lobby/events", 11}, "192.0.2.1");
  std::weak_ptr<Exchange> gone = ex;
  ResponseStream stream = ex->start_stream(Response{bhttp::status::ok, 11});
  ex.reset();
  EXPECT_TRUE(gone.expired());
  io.poll();
  EXPECT_EQ(conn->streams, 1);
  EXPECT_TRUE(stream.push(std::make_shared<const std::string>("data: 1\n\n")));
  EXPECT_EQ(conn->pushed, std::vector<std::string>{"data: 1\n\n"});
  stream.cut();
  io.restart();
  io.poll();
  EXPECT_EQ(conn->closes, 1);
}

// Only the first answer counts: a stream started after a response is empty.
TEST_F(ExchangeTest, AStreamStartedAfterTheAnswerTakesNothing) {
  auto ex = std::make_shared<Exchange>(conn, Request{bhttp::verb::get, "/lobby/events", 11}, "192.0.2.1");
  ex->respond(Response{bhttp::status::ok, 11});
  ResponseStream stream = ex->start_stream(Response{bhttp::status::ok, 11});
  io.poll();
  EXPECT_EQ(conn->streams, 0);
  EXPECT_FALSE(stream.push(std::make_shared<const std::string>("data: 1\n\n")));
  stream.cut();
  io.restart();
  io.poll();
  EXPECT_TRUE(conn->pushed.empty());
  EXPECT_EQ(conn->closes, 0);
}

}  // namespace
}  // namespace chaton::http
