// Tests for a streamed response on a real session over loopback
// (http/session.h): a reader that stops reading while a piece is being
// written is cut once that piece has waited idle_timeout, even though its
// queue is within every bound, and the bytes it held are given back to its
// address exactly once.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "http/exchange.h"
#include "http/session.h"

namespace chaton::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr size_t kPieceBytes = 1 << 20;
constexpr int kPieces = 24;  // more than loopback's socket buffers hold

// Answers every request with a stream and queues kPieces catch-up pieces
// (not counted against the queue's bound) that all share one payload.
class StreamingHandler final : public Handler {
 public:
  void handle(const ExchangePtr& ex) override {
    ex->start_stream(Response{bhttp::status::ok, 11});
    ex->watch_disconnect([this] { gone.set_value(); });
    auto payload = std::make_shared<const std::string>(kPieceBytes, 'x');
    for (int i = 0; i < kPieces; ++i) ex->push(StreamBytes("data: ", payload, "\n\n"), {}, true);
  }
  UpgradeDecision upgrade(const Request&, const std::string&) override { return {}; }

  std::promise<void> gone;
};

TEST(StreamSession, AReaderThatStopsReadingIsCutAfterIdleTimeoutAndItsBytesGivenBackOnce) {
  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  ConnectionLimiter limiter(10, 10, AddressRanges(), size_t{1} << 30);
  SessionLimits limits;
  limits.idle_timeout = 300ms;
  limits.connections = &limiter;
  StreamingHandler handler;
  acceptor.async_accept([&](boost::system::error_code ec, tcp::socket socket) {
    ASSERT_FALSE(ec) << ec.message();
    start_session(std::move(socket), handler, limits, nullptr);
  });
  std::thread server([&io] { io.run_for(20s); });

  net::io_context client_io;
  tcp::socket client(client_io);
  client.open(tcp::v4());
  client.set_option(net::socket_base::receive_buffer_size(4096));
  client.connect(acceptor.local_endpoint());
  net::write(client, net::buffer(std::string("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
  std::string got;
  net::read_until(client, net::dynamic_buffer(got), "\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200")) << got.substr(0, 40);
  // From here on the client reads nothing.

  auto cut = handler.gone.get_future();
  EXPECT_EQ(cut.wait_for(15s), std::future_status::ready) << "the stalled stream was not cut";
  // The cut gave back every byte still queued or being written.
  for (int i = 0; i < 100 && limiter.buffered("127.0.0.1") != 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(limiter.buffered("127.0.0.1"), 0u);

  client.close();
  io.stop();
  server.join();
}

}  // namespace
}  // namespace chaton::http
