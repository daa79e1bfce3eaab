// Tests for a streamed response on a real session over loopback
// (http/session.h): a reader that stops reading while a piece is being
// written is cut once that piece has waited idle_timeout, even though its
// queue is within every bound, and the bytes it held are given back to its
// address exactly once; over TLS too, where the cut must close the socket
// rather than wait for a close_notify stuck behind that piece; the stall
// check counts the injected TimeSource's time.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <array>
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

#include <boost/asio/ssl.hpp>

#include "http/exchange.h"
#include "http/session.h"
#include "support/loopback_session.h"
#include "support/self_signed.h"
#include "support/simulated_time.h"
#include "support/temp_dir.h"

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
    ResponseStream stream = ex->start_stream(Response{bhttp::status::ok, 11});
    ex->watch_disconnect([this] { gone.set_value(); });
    auto payload = std::make_shared<const std::string>(kPieceBytes, 'x');
    for (int i = 0; i < kPieces; ++i) stream.push(StreamBytes("data: ", payload, "\n\n"), {}, true);
  }
  UpgradeDecision upgrade(const Request&, const std::string&) override { return {}; }

  std::promise<void> gone;
};

// One stalled reader: it reads the stream's header and then nothing. The
// session must cut it, give back its bytes and let go of its connection.
// With `time`, the stall check takes its timer and its clock from it: the
// reader is cut only once the test moves that time past idle_timeout.
void stalled_reader_is_cut(bool tls, testing::SimulatedTimeSource* time = nullptr) {
  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  ConnectionLimiter limiter(10, 10, AddressRanges(), size_t{1} << 30);
  SessionLimits limits;
  limits.idle_timeout = 300ms;
  limits.connections = &limiter;
  limits.time = time;
  std::shared_ptr<net::ssl::context> server_tls;
  testing::TempDir dir;
  if (tls) {
    server_tls = testing::self_signed_server_context(dir.path());
    ASSERT_TRUE(server_tls);
  }
  StreamingHandler handler;
  testing::serve_one(acceptor, handler, limits, server_tls);
  std::thread server([&io] { io.run_for(20s); });

  net::io_context client_io;
  net::ssl::context client_tls(net::ssl::context::tls_client);
  net::ssl::stream<tcp::socket> client(client_io, client_tls);
  tcp::socket& raw = client.next_layer();
  raw.open(tcp::v4());
  raw.set_option(net::socket_base::receive_buffer_size(4096));
  raw.connect(acceptor.local_endpoint());
  const std::string request = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  std::string got;
  if (tls) {
    client.handshake(net::ssl::stream_base::client);
    net::write(client, net::buffer(request));
    net::read_until(client, net::dynamic_buffer(got), "\r\n\r\n");
  } else {
    net::write(raw, net::buffer(request));
    net::read_until(raw, net::dynamic_buffer(got), "\r\n\r\n");
  }
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200")) << got.substr(0, 40);
  // From here on the client reads nothing.

  auto cut = handler.gone.get_future();
  if (time) {
    EXPECT_EQ(cut.wait_for(1s), std::future_status::timeout) << "cut while the injected time stood still";
    // The first piece's write may start after a step: step until the cut.
    for (int i = 0; i < 100 && cut.wait_for(50ms) != std::future_status::ready; ++i) time->advance(300ms);
  }
  EXPECT_EQ(cut.wait_for(15s), std::future_status::ready) << "the stalled stream was not cut";
  // The cut gave back every byte still queued or being written.
  for (int i = 0; i < 100 && limiter.buffered("127.0.0.1") != 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(limiter.buffered("127.0.0.1"), 0u);
  // And the server closed the connection: reading what is left ends (an
  // error or the end of the stream) instead of waiting for ever.
  raw.non_blocking(false);
  timeval tv{5, 0};
  ::setsockopt(raw.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::array<char, 65536> sink;
  boost::system::error_code ec;
  for (int i = 0; i < 100000 && !ec; ++i) raw.read_some(net::buffer(sink), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset)
      << "the server did not close the stalled connection: " << ec.message();

  raw.close();
  io.stop();
  server.join();
}

TEST(StreamSession, AReaderThatStopsReadingIsCutAfterIdleTimeoutAndItsBytesGivenBackOnce) {
  stalled_reader_is_cut(false);
}

TEST(StreamSession, OverTlsTheCutClosesTheConnection) { stalled_reader_is_cut(true); }

// The stall check is the TimeSource's timer (SessionLimits::time): on an
// event loop, a node of the loop's timer list rather than an Asio timer
// wait that a stream holds after each write (docs/BENCHMARKS.md, "A
// waiting reader's memory").
TEST(StreamSession, TheStallCheckRunsOnTheInjectedTime) {
  testing::SimulatedTimeSource time;
  stalled_reader_is_cut(false, &time);
}

}  // namespace
}  // namespace chaton::http
