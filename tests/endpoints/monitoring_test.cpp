// /metrics and /healthz (endpoints/monitoring.h): answered only to a TCP
// peer in the allowed ranges, whatever client address a proxy named; the
// registry's text; 503 naming a room whose store cannot take posts.
#include "endpoints/monitoring.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "rooms/fake_store.h"
#include "rooms/room_helpers.h"
#include "support/fake_connection.h"
#include "support/temp_dir.h"
#include "util/clock.h"

namespace chaton::endpoints {
namespace {

namespace bhttp = boost::beast::http;

class MonitoringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RoomSettings s = testing::lobby_settings(true);
    s.config.data_dir = dir.path().string();
    s.metrics = registry;
    auto fake = std::make_unique<rooms_test::FakeStore>();
    store = fake.get();
    room = std::make_shared<Room>(std::move(s), std::move(fake), clock);
    ASSERT_TRUE(room->open(nullptr));
    monitoring = std::make_unique<Monitoring>(registry, AddressRanges::parse("127.0.0.1\n"),
                                              std::vector<std::shared_ptr<Room>>{room});
    monitoring->add_to(table);
  }
  void TearDown() override { room->close(); }

  // GET `path` from client `address` over a connection from `peer`; the
  // answer, once it came (a few seconds at most).
  http::Response ask(const std::string& path, std::string address, std::string peer) {
    auto conn = std::make_shared<testing::FakeConnection>(io.get_executor());
    auto ex = conn->exchange(path, std::move(address), std::move(peer));
    EXPECT_TRUE(table.dispatch(Call{ex, http::Target{path, {}}, path, {}, {}}));
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (conn->responses.empty() && std::chrono::steady_clock::now() < until) {
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
    }
    return conn->responses.empty() ? http::Response() : conn->responses.front();
  }

  testing::TempDir dir;
  ManualClock clock{SysTime(std::chrono::seconds(1732460000))};
  std::shared_ptr<metrics::Registry> registry = std::make_shared<metrics::Registry>();
  rooms_test::FakeStore* store = nullptr;
  std::shared_ptr<Room> room;
  std::unique_ptr<Monitoring> monitoring;
  EndpointTable table;
  boost::asio::io_context io;
};

TEST_F(MonitoringTest, AnswersTheAllowedPeerWithTheRegistrysText) {
  http::Response r = ask("/metrics", "127.0.0.1", "127.0.0.1");
  EXPECT_EQ(r.result(), bhttp::status::ok);
  EXPECT_EQ(r[bhttp::field::content_type], metrics::kContentType);
  EXPECT_NE(r.body().find("chaton_posts_total{room=\"lobby\"} 0\n"), std::string::npos) << r.body();
}

TEST_F(MonitoringTest, ChecksTheTcpPeerAndTheForwardedClient) {
  for (const char* path : {"/metrics", "/healthz"}) {
    EXPECT_EQ(ask(path, "127.0.0.1", "192.0.2.9").result(), bhttp::status::forbidden) << path;
    // Through a proxy on loopback: the client named is not allowed.
    EXPECT_EQ(ask(path, "192.0.2.9", "127.0.0.1").result(), bhttp::status::forbidden) << path;
  }
}

TEST_F(MonitoringTest, HealthzNamesTheRoomWhoseStoreCannotTakePosts) {
  http::Response ok = ask("/healthz", "127.0.0.1", "127.0.0.1");
  EXPECT_EQ(ok.result(), bhttp::status::ok);
  EXPECT_EQ(ok.body(), "ok\n");
  store->set_writable(Status(Errc::io, "the disk is full"));
  http::Response bad = ask("/healthz", "127.0.0.1", "127.0.0.1");
  EXPECT_EQ(bad.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(bad.body(), "room lobby: the disk is full\n");
}

}  // namespace
}  // namespace chaton::endpoints
