// Sessions over loopback: the disconnect watch of a request left waiting.
// A client that closes while its request waits ends it exactly once; bytes
// it sends meanwhile are not a close; a watch armed for an answered request
// does not fire on the next one. And a prepared response goes out whole.
#include "http/session.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/prepared_response.h"
#include "http/responses.h"

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
  void SetUp() override {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(net::ip::address_v4::loopback(), 0));
    acceptor_.listen();
    client_.connect(acceptor_.local_endpoint());
    tcp::socket server(io_);
    acceptor_.accept(server);
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
  void run_a_little() {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(50));
  }

  // Reads one response with a Content-Length from the client's side.
  std::string read_response() {
    std::string in;
    size_t header_end = net::read_until(client_, net::dynamic_buffer(in), "\r\n\r\n") ;
    auto at = in.find("Content-Length: ");
    size_t length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
    if (in.size() < header_end + length)
      net::read(client_, net::dynamic_buffer(in), net::transfer_exactly(header_end + length - in.size()));
    return in;
  }

  net::io_context io_;
  tcp::acceptor acceptor_{io_};
  tcp::socket client_{io_};
  WaitingHandler handler_;
  SessionLimits limits_;
};

constexpr std::string_view kRequest = "GET /lobby/comet?p=0&s=0 HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(SessionTest, AClientThatClosesWhileWaitingEndsItsRequestOnce) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  run_a_little();
  EXPECT_EQ(handler_.gone, 0);  // waiting, not gone
  client_.close();
  EXPECT_TRUE(run_until([&] { return handler_.gone > 0; }));
  run_a_little();
  EXPECT_EQ(handler_.gone, 1);
}

TEST_F(SessionTest, BytesSentWhileWaitingAreNotAClose) {
  send(kRequest);
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 1; }));
  send("GET /lob");  // the start of a next request
  run_a_little();
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
  Response res = make_response(bhttp::status::ok, "application/json; charset=utf-8", "");
  res.set(bhttp::field::cache_control, "no-cache");
  auto head = std::make_shared<const ResponseHead>(res);
  handler_.exchanges[0]->respond(
      PreparedResponse{head, "{\"a\":", std::make_shared<const std::string>("[1,2]"), "}"});
  run_a_little();
  std::string reply = read_response();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_TRUE(reply.ends_with("\r\nContent-Length: 11\r\n\r\n{\"a\":[1,2]}")) << reply;

  send(kRequest);  // the next request, on the same connection, also waits
  ASSERT_TRUE(run_until([&] { return handler_.exchanges.size() == 2; }));
  run_a_little();
  EXPECT_EQ(handler_.gone, 0);
  client_.close();
  EXPECT_TRUE(run_until([&] { return handler_.gone > 0; }));
  run_a_little();
  EXPECT_EQ(handler_.gone, 1);
}

}  // namespace
}  // namespace chaton::http
