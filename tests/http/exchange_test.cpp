// Tests for the Exchange (src/http/exchange.h): a handler that waits lets go
// of its request's header fields, and the response still goes out as the
// request asked (keep-alive, version, HEAD).
#include "http/exchange.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>

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
  void close() override {}
  void watch_disconnect(std::function<void()>) override {}
  void start_stream(Response, unsigned) override {}
  bool push(StreamChunk) override { return false; }

  struct Sent {
    bool keep_alive;
    unsigned version;
    bool head_only;
  };
  std::optional<Sent> sent;

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

}  // namespace
}  // namespace chaton::http
