// Tests for the WebSocket session (http/ws_session.cpp) on a real session
// over loopback, its time injected (SessionLimits::time): the handshake's
// answer, messages both ways, ping and pong, both closing handshakes, a
// client breaking the protocol, and the keep-alive, whose timeouts pass
// without the test sleeping.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "http/exchange.h"
#include "http/session.h"
#include "http/ws_channel.h"
#include "support/loopback_session.h"
#include "support/self_signed.h"
#include "support/simulated_time.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace chaton::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kKeepAlive = 150s;  // the session's keep-alive interval

// The application's side: records what it is told, and keeps the channel.
class RecordingPeer final : public WsPeer {
 public:
  void on_open(std::shared_ptr<WsChannel> ch) override {
    std::lock_guard lock(mu);
    channel = std::move(ch);
    opened.set_value();
  }
  void on_message(std::string_view text) override {
    std::lock_guard lock(mu);
    messages.emplace_back(text);
  }
  void on_close() override {
    std::lock_guard lock(mu);
    ++closes;
    channel.reset();
  }
  std::vector<std::string> got() {
    std::lock_guard lock(mu);
    return messages;
  }
  int closed() {
    std::lock_guard lock(mu);
    return closes;
  }

  std::mutex mu;
  std::shared_ptr<WsChannel> channel;
  std::vector<std::string> messages;
  int closes = 0;
  std::promise<void> opened;
};

class UpgradingHandler final : public Handler {
 public:
  void handle(const ExchangePtr&) override {}
  UpgradeDecision upgrade(const Request&, const std::string&) override { return {peer, std::nullopt}; }
  std::shared_ptr<RecordingPeer> peer = std::make_shared<RecordingPeer>();
};

// A client's frame, masked with a fixed key (RFC 6455 section 5.3).
std::string client_frame(uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(mask_bit | payload.size()));
  } else {
    f.push_back(static_cast<char>(mask_bit | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  }
  const std::array<uint8_t, 4> key{0x12, 0x34, 0x56, 0x78};
  if (masked) f.append(reinterpret_cast<const char*>(key.data()), key.size());
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(masked ? payload[i] ^ key[i % 4] : payload[i]));
  return f;
}

std::string close_payload(uint16_t code, std::string_view reason = "") {
  std::string p{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return p + std::string(reason);
}

struct ServerFrame {
  uint8_t opcode = 0;
  std::string payload;
};

// A session on loopback (its time injected), and what its client read and
// has not taken yet.
struct Loopback : testing::LoopbackSession<UpgradingHandler> {
  explicit Loopback(testing::SimulatedTimeSource& time, int socket_buffer_bytes = 0)
      : LoopbackSession(time, small_limits(), socket_buffer_bytes) {}
  static SessionLimits small_limits() {
    SessionLimits l;
    l.max_body_bytes = 1000;
    return l;
  }

  // Sends the upgrade request (and `after` with it, in one write) and
  // returns the answer's head.
  std::string handshake(std::string_view version = "13", std::string_view after = "") {
    send(std::string("GET /lobby/ws?p=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: ") +
         std::string(version) + "\r\n\r\n" + std::string(after));
    for (int i = 0; i < 30 && pending.find("\r\n\r\n") == std::string::npos; ++i) {
      auto ec = read_some();
      if (ec && !still_open(ec)) break;
    }
    size_t end = pending.find("\r\n\r\n");
    if (end == std::string::npos) return pending;
    std::string head = pending.substr(0, end + 4);
    pending.erase(0, end + 4);
    return head;
  }
  void open() {
    std::string head = handshake();
    ASSERT_TRUE(head.starts_with("HTTP/1.1 101")) << head;
    ASSERT_NE(head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << head;
    ASSERT_EQ(handler.peer->opened.get_future().wait_for(10s), std::future_status::ready);
  }

  // The next frame from the server, if one comes within a few receive timeouts.
  std::optional<ServerFrame> frame() {
    for (int i = 0; i < 20; ++i) {
      if (pending.size() >= 2) {
        size_t len = static_cast<uint8_t>(pending[1]) & 0x7F;
        size_t at = 2;
        if (len == 126 && pending.size() >= 4) {
          len = (static_cast<uint8_t>(pending[2]) << 8) | static_cast<uint8_t>(pending[3]);
          at = 4;
        }
        if (pending.size() >= at + len && len < 126 + 65536) {
          ServerFrame f{static_cast<uint8_t>(pending[0] & 0x0F), pending.substr(at, len)};
          EXPECT_TRUE(static_cast<uint8_t>(pending[0]) & 0x80) << "a server frame is final";
          EXPECT_FALSE(static_cast<uint8_t>(pending[1]) & 0x80) << "a server frame is not masked";
          pending.erase(0, at + len);
          return f;
        }
      }
      auto ec = read_some();
      if (ec && !still_open(ec)) return std::nullopt;
    }
    return std::nullopt;
  }

  // Waits until the server has read everything sent before: it answers a
  // ping sent after it (skipping other frames, which it returns).
  std::vector<ServerFrame> sync() {
    send(client_frame(0x9, "sync"));
    std::vector<ServerFrame> before;
    while (auto f = frame()) {
      if (f->opcode == 0xA && f->payload == "sync") return before;
      before.push_back(*f);
    }
    ADD_FAILURE() << "no answer to the sync ping";
    return before;
  }

  // True once the server has closed the connection (after any frames).
  bool closed_by_server() {
    for (int i = 0; i < 20; ++i) {
      auto ec = read_some();
      if (ec == net::error::eof || ec == net::error::connection_reset) return true;
      if (ec && !still_open(ec)) return false;
    }
    return false;
  }
  bool still_open_now() {
    auto ec = read_some();
    return ec && still_open(ec);
  }

  boost::system::error_code read_some() { return read(pending); }

  std::string pending;  // bytes read and not yet taken
};

// One keep-alive interval passes, and the session has acted on it: its
// timer (its only one) is armed again.
void next_interval(testing::SimulatedTimeSource& time) {
  time.advance(kKeepAlive);
  EXPECT_TRUE(testing::wait_until([&] { return time.pending_timers() == 1; }))
      << "the keep-alive was not re-armed";
}

TEST(WsSession, MessagesGoBothWaysAndTheSharedPayloadIsFramedOnce) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  l.open();
  l.send(client_frame(0x1, "hel", false) + client_frame(0x0, "lo"));
  EXPECT_TRUE(l.sync().empty());
  EXPECT_EQ(l.handler.peer->got(), std::vector<std::string>{"hello"});
  auto shared = std::make_shared<const std::string>(std::string(200, 'x'));
  ASSERT_TRUE(l.handler.peer->channel->send(StreamBytes("[", shared, "]")));
  auto f = l.frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x1);
  EXPECT_EQ(f->payload, "[" + *shared + "]");
}

// A frame the socket takes whole is done where it is sent, on the
// session's loop (http/write_now.h): what was to run once it is written
// has run before send() returns.
TEST(WsSession, AFrameTheSocketTakesAtOnceIsDoneWhereItIsSent) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  l.open();
  std::shared_ptr<WsChannel> channel = l.handler.peer->channel;
  std::promise<bool> written_before_return;
  net::post(channel->executor(), [&] {
    bool written = false;
    EXPECT_TRUE(channel->send(
        StreamBytes("[", std::make_shared<const std::string>("hi"), "]"), [&written] { written = true; },
        false));
    written_before_return.set_value(written);
  });
  auto result = written_before_return.get_future();
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(result.get());
  auto f = l.frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload, "[hi]");
}

TEST(WsSession, APingIsAnsweredWithItsPayload) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  l.open();
  l.send(client_frame(0x9, "are you there"));
  auto f = l.frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0xA);
  EXPECT_EQ(f->payload, "are you there");
}

TEST(WsSession, TheClientsCloseIsAnsweredWithItsCodeAndTheConnectionEnds) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  l.open();
  l.send(client_frame(0x8, close_payload(1000, "bye")));
  auto f = l.frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(f->payload, close_payload(1000));
  EXPECT_TRUE(l.closed_by_server());
  // It read on until the client closed its end too (its close frame is not
  // lost to a reset), then ended.
  EXPECT_EQ(l.handler.peer->closed(), 0);
  l.client.shutdown(tcp::socket::shutdown_send);
  EXPECT_TRUE(testing::wait_until([&] { return l.handler.peer->closed() == 1; }));
}

TEST(WsSession, TheServersCloseWaitsForTheClientsAnswerThenEnds) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  l.open();
  l.handler.peer->channel->close(kWsCloseTryAgainLater, kWsTooSlowReason);
  auto f = l.frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(f->payload, close_payload(kWsCloseTryAgainLater, kWsTooSlowReason));
  EXPECT_TRUE(l.still_open_now()) << "closed before the client answered";
  EXPECT_FALSE(l.handler.peer->channel->send(std::make_shared<const std::string>("late")))
      << "a frame after the close";
  l.send(client_frame(0x8, close_payload(kWsCloseTryAgainLater)));
  EXPECT_TRUE(l.closed_by_server());
  l.client.shutdown(tcp::socket::shutdown_send);
  EXPECT_TRUE(testing::wait_until([&] { return l.handler.peer->closed() == 1; }));
}

TEST(WsSession, AServersCloseThatGetsNoAnswerEndsAnyway) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  l.open();
  l.handler.peer->channel->close(kWsCloseServiceRestart, kWsRestartReason);
  ASSERT_TRUE(l.frame());
  time.advance(4s);
  EXPECT_TRUE(l.still_open_now());
  time.advance(1s);
  EXPECT_TRUE(l.closed_by_server());
}

TEST(WsSession, AClientBreakingTheProtocolIsClosedWithTheRightCode) {
  struct Case {
    std::string bytes;
    uint16_t code;
  };
  const std::vector<Case> cases = {
      {client_frame(0x1, "not masked", true, false), 1002},
      {client_frame(0x2, "binary"), 1008},
      {client_frame(0x1, "\xff\xfe"), 1007},
      {client_frame(0x1, std::string(1001, 'a')), 1009},
      {client_frame(0x0, "no message started"), 1002},
  };
  for (const Case& c : cases) {
    testing::SimulatedTimeSource time;
    Loopback l(time);
    l.open();
    l.send(c.bytes);
    auto f = l.frame();
    ASSERT_TRUE(f) << c.code;
    EXPECT_EQ(f->opcode, 0x8);
    ASSERT_GE(f->payload.size(), 2u);
    EXPECT_EQ((static_cast<uint8_t>(f->payload[0]) << 8) | static_cast<uint8_t>(f->payload[1]), c.code);
    EXPECT_TRUE(l.closed_by_server()) << c.code;
    EXPECT_TRUE(l.handler.peer->got().empty());
    // What the client still sends is read and dropped for a while (its
    // close frame is not lost to a reset); then the session ends anyway.
    time.advance(5s);
    EXPECT_TRUE(testing::wait_until([&] { return l.handler.peer->closed() == 1; })) << c.code;
  }
}

TEST(WsSession, ASilentClientIsPingedThenClosedAndAnAnsweringOneStays) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  l.open();
  // Heard from during the first interval (the handshake): no ping yet.
  next_interval(time);
  EXPECT_TRUE(l.still_open_now());
  EXPECT_TRUE(l.pending.empty());
  next_interval(time);
  auto ping = l.frame();
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, 0x9);
  // Answered: it stays, and is pinged again only after silence.
  l.send(client_frame(0xA, ping->payload));
  EXPECT_TRUE(l.sync().empty());
  next_interval(time);
  EXPECT_TRUE(l.still_open_now());
  EXPECT_TRUE(l.pending.empty());
  next_interval(time);
  ASSERT_TRUE(l.frame());
  // Not answered: closed one interval later.
  time.advance(kKeepAlive);
  EXPECT_TRUE(l.closed_by_server());
  EXPECT_EQ(l.handler.peer->closed(), 1);
}

// A client that stops reading may still send (pings, posts): a frame whose
// write makes no progress through a whole keep-alive interval ends the
// session, however talkative the client.
TEST(WsSession, AWriteStuckForAWholeIntervalEndsTheSession) {
  testing::SimulatedTimeSource time;
  Loopback l(time, /*socket_buffer_bytes=*/4096);
  l.open();
  auto big = std::make_shared<const std::string>(std::string(900 * 1024, 'x'));
  ASSERT_TRUE(l.handler.peer->channel->send(StreamBytes(big)));
  // Its first bytes: the write is under way (and cannot end: no more is read).
  for (int i = 0; i < 20 && l.pending.empty(); ++i) (void)l.read_some();
  ASSERT_FALSE(l.pending.empty());
  l.send(client_frame(0x9, "still here"));
  next_interval(time);
  l.send(client_frame(0x9, "still here"));
  EXPECT_EQ(l.handler.peer->closed(), 0);
  time.advance(kKeepAlive);
  EXPECT_TRUE(testing::wait_until([&] { return l.handler.peer->closed() == 1; }));
}

// The same session over TLS: the upgrade, a message each way, and the
// closing handshake, after which the TLS stream is shut down and the
// session ends.
TEST(WsSession, OverTlsMessagesGoBothWaysAndTheClosingHandshakeEnds) {
  testing::TempDir dir;
  auto server_tls = testing::self_signed_server_context(dir.path());
  ASSERT_TRUE(server_tls);
  testing::SimulatedTimeSource time;
  SessionLimits limits;
  limits.time = &time;
  UpgradingHandler handler;
  net::io_context io;
  auto work = net::make_work_guard(io);
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  testing::serve_one(acceptor, handler, limits, server_tls);
  std::thread server([&io] { io.run_for(20s); });

  net::io_context client_io;
  net::ssl::context client_tls(net::ssl::context::tls_client);
  net::ssl::stream<tcp::socket> client(client_io, client_tls);
  client.next_layer().connect(acceptor.local_endpoint());
  client.handshake(net::ssl::stream_base::client);
  net::write(client,
             net::buffer(std::string("GET /lobby/ws?p=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "Sec-WebSocket-Version: 13\r\n\r\n")));
  std::string got;
  size_t head = net::read_until(client, net::dynamic_buffer(got), "\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 101")) << got;
  got.erase(0, head);
  ASSERT_EQ(handler.peer->opened.get_future().wait_for(10s), std::future_status::ready);
  // The next `n` bytes from the server.
  auto next = [&](size_t n) {
    if (got.size() < n) net::read(client, net::dynamic_buffer(got), net::transfer_exactly(n - got.size()));
    std::string bytes = got.substr(0, n);
    got.erase(0, n);
    return bytes;
  };

  net::write(client, net::buffer(client_frame(0x1, "over tls")));
  EXPECT_TRUE(
      testing::wait_until([&] { return handler.peer->got() == std::vector<std::string>{"over tls"}; }));
  ASSERT_TRUE(handler.peer->channel->send(std::make_shared<const std::string>("abc")));
  EXPECT_EQ(next(5), std::string("\x81\x03"
                                 "abc"));

  net::write(client, net::buffer(client_frame(0x8, close_payload(1000))));
  EXPECT_EQ(next(4), std::string("\x88\x02\x03\xe8", 4));
  // The server shuts TLS down: its close_notify ends our reading; ours
  // answers it, and the session ends.
  boost::system::error_code ec;
  std::array<char, 64> sink;
  client.read_some(net::buffer(sink), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::ssl::error::stream_truncated) << ec.message();
  client.shutdown(ec);
  EXPECT_TRUE(testing::wait_until([&] { return handler.peer->closed() == 1; }));
  io.stop();
  server.join();
}

// A client should wait for the handshake's answer before it sends a frame
// (RFC 6455 section 4.1); one that does not is read all the same.
TEST(WsSession, AFrameSentWithTheUpgradeRequestIsRead) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  std::string head = l.handshake("13", client_frame(0x1, "early"));
  ASSERT_TRUE(head.starts_with("HTTP/1.1 101")) << head;
  ASSERT_EQ(l.handler.peer->opened.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(l.sync().empty());
  EXPECT_EQ(l.handler.peer->got(), std::vector<std::string>{"early"});
}

TEST(WsSession, AnotherVersionIsRefusedAndClosed) {
  testing::SimulatedTimeSource time;
  Loopback l(time);
  std::string head = l.handshake("8");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 426")) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Version: 13"), std::string::npos) << head;
  EXPECT_TRUE(l.closed_by_server());
}

}  // namespace
}  // namespace chaton::http
