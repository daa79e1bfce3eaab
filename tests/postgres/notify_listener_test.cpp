// NotifyListener against a real PostgreSQL: it hears NOTIFY on channel
// `chaton`, says when LISTEN is in place, and after its connection is
// killed it reconnects by itself and says so again.
#include "postgres/notify_listener.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <mutex>
#include <thread>

#include "postgres/pg_connection.h"
#include "postgres/pg_store.h"
#include "postgres/schema.h"
#include "support/pg_cluster.h"
#include "support/wait.h"
#include "util/clock.h"

namespace chaton::postgres {
namespace {

using chaton::testing::PgCluster;
using chaton::testing::wait_until;

TEST(NoticeTest, ParsesSlugAndSequence) {
  auto a = parse_notice("lobby 42");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->slug, "lobby");
  EXPECT_EQ(a->sequence, 42u);
  auto b = parse_notice("lobby");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->sequence);
  EXPECT_FALSE(parse_notice(""));
  EXPECT_FALSE(parse_notice("lobby x"));
  EXPECT_FALSE(parse_notice("lobby 4 2"));
  auto c = parse_notice("lobby +123");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cid, 123);
  EXPECT_FALSE(c->sequence);
  EXPECT_FALSE(parse_notice("lobby +"));
  EXPECT_FALSE(parse_notice("lobby +x"));
  EXPECT_TRUE(c->numbering.empty());
  auto d = parse_notice("lobby +123 7");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->cid, 123);
  EXPECT_EQ(d->numbering, "7");
  EXPECT_FALSE(parse_notice("lobby +123 "));
  EXPECT_FALSE(parse_notice("lobby +123 7 8"));
  EXPECT_FALSE(parse_notice("lobby +x 7"));
}

class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CHATON_REQUIRE_PG();
    url_ = PgCluster::shared().fresh_database("listen");
    listener_ = std::make_shared<NotifyListener>(
        io_.get_executor(), url_,
        [this](const Notice& n) {
          std::lock_guard lock(mu_);
          heard_.push_back(n.slug + (n.sequence ? " " + std::to_string(*n.sequence) : "") +
                           (n.cid ? " +" + std::to_string(*n.cid) : "") +
                           (n.numbering.empty() ? "" : " " + n.numbering));
        },
        [this] { ++connected_; }, std::chrono::milliseconds(50));
    listener_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (listener_) listener_->stop();
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> heard() {
    std::lock_guard lock(mu_);
    return heard_;
  }
  bool notify(PgConnection& c, const std::string& payload) {
    return static_cast<bool>(c.exec("SELECT pg_notify('chaton', $1)", {payload}));
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::string url_;
  std::shared_ptr<NotifyListener> listener_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> heard_;
  std::atomic<int> connected_{0};
};

TEST_F(ListenerTest, HearsNotificationsInOrder) {
  ASSERT_TRUE(wait_until([&] { return connected_.load() == 1; }));
  PgConnection c(url_);
  ASSERT_TRUE(notify(c, "lobby 1"));
  ASSERT_TRUE(notify(c, "other 7"));
  ASSERT_TRUE(notify(c, "lobby"));
  ASSERT_TRUE(notify(c, "lobby +77"));
  ASSERT_TRUE(wait_until([&] { return heard().size() == 4; }));
  EXPECT_EQ(heard(), (std::vector<std::string>{"lobby 1", "other 7", "lobby", "lobby +77"}));
}

// The cids a node gives out reach the others with the numbering they were
// given in, when it is one of the store's stamps.
TEST_F(ListenerTest, HearsTheCidsANodeGivesOutWithTheirNumbering) {
  ASSERT_TRUE(wait_until([&] { return connected_.load() == 1; }));
  PgConnection c(url_);
  auto m = migrate(c);
  ASSERT_TRUE(m) << m.status().message();
  PgStore store(url_, "lobby", "a", SystemClock::instance());
  const std::vector<IssuedCid> cids{{5, "0"}, {6, ""}, {7, "not a stamp"}};
  Status st = store.announce_cids(cids);
  ASSERT_TRUE(st) << st.message();
  ASSERT_TRUE(wait_until([&] { return heard().size() == 3; }));
  EXPECT_EQ(heard(), (std::vector<std::string>{"lobby +5 0", "lobby +6", "lobby +7"}));
}

TEST_F(ListenerTest, ReconnectsAfterItsConnectionIsKilled) {
  ASSERT_TRUE(wait_until([&] { return connected_.load() == 1; }));
  PgConnection c(url_);
  auto killed = c.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'chaton-listen' "
      "AND datname = current_database()");
  ASSERT_TRUE(killed) << killed.status().message();
  ASSERT_EQ(killed->rows(), 1);
  ASSERT_TRUE(wait_until([&] { return connected_.load() == 2; }));
  ASSERT_TRUE(notify(c, "lobby 9"));
  ASSERT_TRUE(wait_until([&] { return !heard().empty(); }));
  EXPECT_EQ(heard().back(), "lobby 9");
}

TEST(ListenerUnreachableTest, KeepsTryingWithoutBlockingItsLoop) {
  boost::asio::io_context io;
  int connected = 0;
  auto listener = std::make_shared<NotifyListener>(
      io.get_executor(), "postgresql://chaton@127.0.0.1:1/chaton", [](const Notice&) {}, [&] { ++connected; },
      std::chrono::milliseconds(10));
  listener->start();
  // Several attempts run on the loop, each giving it back in between.
  int ticks = 0;
  for (int i = 0; i < 20; ++i) io.run_one_for(std::chrono::milliseconds(100)), ++ticks;
  EXPECT_EQ(connected, 0);
  EXPECT_FALSE(listener->listening());
  listener->stop();
  io.run_for(std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace chaton::postgres
