// chaton::Client against a real server in the test process: login, the
// comet loop seeing posts, talk and its refusals, permalinks, reconnecting
// (with a new login when the server forgot the cid) and bye() ending a
// long-poll at once.
#include "client/client.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <vector>

#include "client/test_server.h"
#include "support/self_signed.h"

namespace chaton {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::test_config;
using testing::TestServer;
using testing::wait_until;
using testing::write_self_signed;

const ClientOptions kFastRetry{20ms, 60ms};

// Everything an observer saw, safe to read from the test thread.
struct Seen {
  std::mutex mu;
  std::vector<Packet> packets;
  std::vector<PacketPost> posts;
  std::vector<Status> errors;

  Client::PacketHandler on_packet() {
    return [this](const Packet& p) {
      std::lock_guard lock(mu);
      packets.push_back(p);
      posts.insert(posts.end(), p.posts.begin(), p.posts.end());
    };
  }
  Client::ErrorHandler on_error() {
    return [this](const Status& s) {
      std::lock_guard lock(mu);
      errors.push_back(s);
    };
  }
  size_t post_count() {
    std::lock_guard lock(mu);
    return posts.size();
  }
  size_t error_count() {
    std::lock_guard lock(mu);
    return errors.size();
  }
  std::vector<std::string> texts() {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& p : posts) out.push_back(p.text);
    return out;
  }
};

TEST(Client, ConnectLogsInAtApilogin) {
  TempDir dir("client-");
  TestServer server(test_config(dir.path()));
  ASSERT_TRUE(server.started());
  auto c = Client::connect(server.room_url(), "client-test");
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->room_url(), server.room_url());
  EXPECT_EQ(c->room_name(), "Lobby");
  EXPECT_EQ(c->post_uri(), server.room_url() + "post");
  EXPECT_EQ(c->comet_uri(), server.room_url() + "comet");
  EXPECT_GT(c->cid(), 0);
  EXPECT_EQ(c->pos(), 0u);

  // Without the final slash too; pos is where the room is.
  ASSERT_TRUE(c->talk("a", "one"));
  std::string bare = server.room_url();
  bare.pop_back();
  auto again = Client::connect(bare, "client-test");
  ASSERT_TRUE(again) << again.status().message();
  EXPECT_EQ(again->room_url(), server.room_url());
  EXPECT_EQ(again->pos(), 1u);
}

TEST(Client, ConnectFailuresAreValuesWithReasons) {
  TempDir dir("client-");
  TestServer server(test_config(dir.path()));
  ASSERT_TRUE(server.started());
  auto missing = Client::connect(server.url() + "/nope/", "client-test");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), Errc::not_found);
  EXPECT_NE(missing.status().message().find("no such room"), std::string::npos) << missing.status().message();

  auto bad_url = Client::connect("ftp://example.org/room/", "client-test");
  ASSERT_FALSE(bad_url);
  EXPECT_EQ(bad_url.status().code(), Errc::invalid);

  uint16_t port = server.port();
  server.stop();
  auto refused = Client::connect("http://127.0.0.1:" + std::to_string(port) + "/lobby/", "t");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Errc::io);
  EXPECT_NE(refused.status().message().find("connecting"), std::string::npos) << refused.status().message();
}

TEST(Client, ObservesPostsAndTalks) {
  TempDir dir("client-");
  TestServer server(test_config(dir.path()));
  ASSERT_TRUE(server.started());
  auto reader = Client::connect(server.room_url(), "reader", kFastRetry);
  auto writer = Client::connect(server.room_url(), "writer", kFastRetry);
  ASSERT_TRUE(reader && writer);
  Seen seen;
  ASSERT_TRUE(reader->observe(seen.on_packet(), seen.on_error()));
  EXPECT_FALSE(reader->observe(seen.on_packet())) << "a second loop is refused";

  auto ack = writer->talk("alice", "hello\nworld & <friends>");
  ASSERT_TRUE(ack) << ack.status().message();
  ASSERT_TRUE(ack->pos.has_value());
  EXPECT_EQ(*ack->pos, 1u);
  auto ack2 = writer->talk("bob", "ユニコード ✓");
  ASSERT_TRUE(ack2) << ack2.status().message();

  ASSERT_TRUE(wait_until([&] { return seen.post_count() >= 2; }));
  {
    std::lock_guard lock(seen.mu);
    ASSERT_EQ(seen.posts.size(), 2u);
    const PacketPost& first = seen.posts[0];
    EXPECT_EQ(first.nick, "alice");
    EXPECT_EQ(first.text, "hello\nworld & <friends>");
    EXPECT_EQ(reader->permalink(first.sec, first.usec), ack->permalink);
    EXPECT_EQ(ack->id, ack->permalink.substr(ack->permalink.find('#') + 1));
    EXPECT_EQ(seen.posts[1].nick, "bob");
    EXPECT_EQ(seen.posts[1].text, "ユニコード ✓");
    EXPECT_EQ(seen.packets.back().pos, 2u);
    EXPECT_EQ(seen.packets.back().ver, CHATON_VERSION);
    EXPECT_GE(seen.packets.back().nc, 1u);
    EXPECT_TRUE(seen.errors.empty());
  }
  EXPECT_EQ(reader->pos(), 2u);
  reader->bye();
  reader->bye();  // idempotent
}

TEST(Client, TalkRefusalsCarryTheServersReason) {
  TempDir dir("client-");
  Config config = test_config(dir.path());
  config.limits.text_limit = 10;
  TestServer server(std::move(config));
  ASSERT_TRUE(server.started());
  auto c = Client::connect(server.room_url(), "client-test");
  ASSERT_TRUE(c);

  auto empty = c->talk("alice", "   ");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.status().code(), Errc::invalid);
  EXPECT_NE(empty.status().message().find("text"), std::string::npos) << empty.status().message();
  EXPECT_EQ(empty.status().message().find('\n'), std::string::npos) << "one line";

  auto too_long = c->talk("alice", "0123456789abc");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.status().code(), Errc::too_large);
  EXPECT_NE(too_long.status().message().find("10"), std::string::npos) << too_long.status().message();
}

TEST(Client, PermalinkFollowsTheOriginalFormat) {
  TempDir dir("client-");
  TestServer server(test_config(dir.path()));
  ASSERT_TRUE(server.started());
  auto c = Client::connect(server.room_url(), "client-test");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->permalink(0x6743ab50, 0x1e240), server.room_url() + "a/2024/11/24#entry-6743ab50-1e240");
  EXPECT_EQ(c->permalink(0x6743ab50, 5), server.room_url() + "a/2024/11/24#entry-6743ab50-05");
}

TEST(Client, ByeEndsAWaitingLongPollAtOnce) {
  TempDir dir("client-");
  Config config = test_config(dir.path());
  config.comet = CometConfig{};  // the original's 15-30 s and 240-360 s
  TestServer server(std::move(config));
  ASSERT_TRUE(server.started());
  auto c = Client::connect(server.room_url(), "client-test");
  ASSERT_TRUE(c);
  Seen seen;
  ASSERT_TRUE(c->observe(seen.on_packet()));
  ASSERT_TRUE(wait_until([&] { return server.waiting_readers() == 1; }));  // the loop's long-poll waits
  auto start = std::chrono::steady_clock::now();
  c->bye();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Client, ByeFromTheCallbackDoesNotDeadlock) {
  TempDir dir("client-");
  TestServer server(test_config(dir.path()));
  ASSERT_TRUE(server.started());
  auto c = Client::connect(server.room_url(), "client-test");
  ASSERT_TRUE(c);
  std::atomic<int> calls{0};
  Client* self = &c.value();
  ASSERT_TRUE(c->observe([&](const Packet&) {
    ++calls;
    self->bye();
  }));
  ASSERT_TRUE(c->talk("a", "stop me"));
  ASSERT_TRUE(wait_until([&] { return calls.load() >= 1; }));
  ASSERT_TRUE(c->talk("a", "not seen"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls.load(), 1);
  c->bye();  // joins the finished loop
}

// The server goes away and comes back on the same port and data: the loop
// reports the failure, waits, and goes on from its pos. A long-poll that
// the stopped server left open unanswered counts as lost after
// comet_timeout (the fast test server answers every poll within 1.5 s). With loose_login
// off the new server answers "expired" to the old cid, so the client logs
// in again. Either way, no post is missed.
void reconnect_scenario(bool loose_login) {
  TempDir dir("client-");
  Config config = test_config(dir.path());
  config.rooms[0].loose_login = loose_login;
  auto server = std::make_unique<TestServer>(config);
  ASSERT_TRUE(server->started());
  uint16_t port = server->port();
  ClientOptions options = kFastRetry;
  options.comet_timeout = 3s;
  auto c = Client::connect(server->room_url(), "client-test", options);
  ASSERT_TRUE(c);
  Seen seen;
  ASSERT_TRUE(c->observe(seen.on_packet(), seen.on_error()));
  ASSERT_TRUE(c->talk("a", "before"));
  ASSERT_TRUE(wait_until([&] { return seen.post_count() >= 1; }));
  int64_t old_cid = c->cid();

  server->stop();
  ASSERT_TRUE(wait_until([&] { return seen.error_count() >= 1; }));
  config.site.listen = "127.0.0.1:" + std::to_string(port);
  server = std::make_unique<TestServer>(config);
  ASSERT_TRUE(server->started());
  auto poster = Client::connect(server->room_url(), "poster");
  ASSERT_TRUE(poster) << poster.status().message();
  ASSERT_TRUE(poster->talk("b", "after 1"));
  ASSERT_TRUE(poster->talk("b", "after 2"));

  ASSERT_TRUE(wait_until([&] { return seen.post_count() >= 3; }));
  EXPECT_EQ(seen.texts(), (std::vector<std::string>{"before", "after 1", "after 2"}));
  EXPECT_NE(c->cid(), old_cid);
  EXPECT_EQ(c->pos(), 3u);
  c->bye();
}

TEST(Client, ReconnectsWithBackoffAfterTheServerRestarts) { reconnect_scenario(true); }
TEST(Client, LogsInAgainWhenTheServerForgotTheCid) { reconnect_scenario(false); }

// A raw TCP connection to `port` that sends `bytes` and then nothing: true
// when the server closes it within `bound` (reading EOF or a reset).
bool closed_by_server(uint16_t port, std::string_view bytes, std::chrono::seconds bound) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{static_cast<time_t>(bound.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool closed = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    closed = n == 0 || (n < 0 && errno == ECONNRESET);
  }
  ::close(fd);
  return closed;
}

TEST(Server, ATlsClientThatStallsInTheHandshakeIsClosedAtTheRequestTimeout) {
  TempDir dir("client-");
  ASSERT_TRUE(write_self_signed(dir.path()));
  Config config = test_config(dir.path() / "data");
  config.site.tls_certificates = {(dir.path() / "cert.pem").string()};
  config.site.tls_private_key = (dir.path() / "key.pem").string();
  config.limits.request_timeout = 1;
  TestServer server(std::move(config));
  ASSERT_TRUE(server.started());
  // Nothing at all, then the first bytes of a TLS record and no more.
  EXPECT_TRUE(closed_by_server(server.port(), {}, 10s));
  EXPECT_TRUE(closed_by_server(server.port(), std::string_view("\x16\x03\x01\x02\x00", 5), 10s));
  // The server still shakes hands with a real client.
  ClientOptions options = kFastRetry;
  options.ca_file = (dir.path() / "cert.pem").string();
  auto c = Client::connect(server.room_url(), "client-test", options);
  EXPECT_TRUE(c) << c.status().message();
}

TEST(Client, SpeaksHttpsAndVerifiesTheServer) {
  TempDir dir("client-");
  ASSERT_TRUE(write_self_signed(dir.path()));
  Config config = test_config(dir.path() / "data");
  config.site.tls_certificates = {(dir.path() / "cert.pem").string()};
  config.site.tls_private_key = (dir.path() / "key.pem").string();
  TestServer server(std::move(config));
  ASSERT_TRUE(server.started());
  ASSERT_TRUE(server.room_url().starts_with("https://")) << server.room_url();

  auto untrusted = Client::connect(server.room_url(), "client-test");
  ASSERT_FALSE(untrusted) << "a certificate no CA vouches for is refused";
  EXPECT_EQ(untrusted.status().code(), Errc::io);
  EXPECT_NE(untrusted.status().message().find("TLS handshake"), std::string::npos)
      << untrusted.status().message();

  ClientOptions options = kFastRetry;
  options.ca_file = (dir.path() / "cert.pem").string();
  auto c = Client::connect(server.room_url(), "client-test", options);
  ASSERT_TRUE(c) << c.status().message();
  Seen seen;
  ASSERT_TRUE(c->observe(seen.on_packet(), seen.on_error()));
  auto ack = c->talk("alice", "over TLS");
  ASSERT_TRUE(ack) << ack.status().message();
  ASSERT_TRUE(wait_until([&] { return seen.post_count() >= 1; }));
  EXPECT_EQ(seen.texts(), std::vector<std::string>{"over TLS"});
  EXPECT_TRUE(ack->permalink.starts_with(server.room_url()));
  c->bye();
}

}  // namespace
}  // namespace chaton
