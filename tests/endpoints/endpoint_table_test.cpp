// The endpoint table: first match wins (exact or prefix), a method an entry
// does not take is answered 405 with the entry's Allow before any handler
// runs, HEAD goes wherever GET does, and a may_block handler runs on the
// blocking pool, not on the thread that dispatched.
#include "endpoints/endpoint_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace chaton::endpoints {

using http::Connection;
using http::PreparedResponse;
using http::Exchange;
using http::Request;
using http::Response;
using http::StreamChunk;
using http::Target;
namespace bhttp = boost::beast::http;
namespace {

// A connection that keeps what it was sent.
class FakeConnection final : public Connection {
 public:
  explicit FakeConnection(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  boost::asio::any_io_executor executor() override { return ex_; }
  void send(Response res, bool, unsigned, bool) override {
    std::lock_guard lock(mu_);
    sent_ = std::move(res);
  }
  void send(PreparedResponse, bool, unsigned, bool) override {}  // the table's handlers answer with a Response
  void close() override {}
  void watch_disconnect(Callback) override {}
  void start_stream(Response, unsigned) override {}
  bool push(StreamChunk) override { return false; }

  std::optional<Response> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  boost::asio::any_io_executor ex_;
  std::mutex mu_;
  std::optional<Response> sent_;
};

class EndpointTableTest : public ::testing::Test {
 protected:
  // Dispatches `method path` through `table`, runs the connection's
  // executor until it has an answer (or a second has passed), and returns it.
  std::optional<Response> ask(const EndpointTable& table, bhttp::verb method, const std::string& path,
                              bool* matched = nullptr) {
    auto conn = std::make_shared<FakeConnection>(ioc_.get_executor());
    Request req(method, path, 11);
    auto ex = std::make_shared<Exchange>(conn, std::move(req), "192.0.2.1");
    bool m = table.dispatch(Call{ex, Target{path, {}}, path, {}, {}});
    if (matched) *matched = m;
    if (!m) return conn->sent();  // nothing may have been sent
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!conn->sent() && std::chrono::steady_clock::now() < until) {
      ioc_.restart();
      ioc_.run_for(std::chrono::milliseconds(10));
    }
    return conn->sent();
  }

  static EndpointHandler answer(std::string body) {
    return [body](const Call& c) { c.ex->respond(Response(bhttp::status::ok, 11, body + "|" + c.rest)); };
  }

  boost::asio::io_context ioc_;
};

TEST_F(EndpointTableTest, FirstMatchExactOrPrefixWithTheRest) {
  EndpointTable t;
  t.add({"a", Match::exact, kGetHead, answer("a")});
  t.add({"a/", Match::prefix, kGetHead, answer("archive")});
  t.add({"", Match::prefix, kGetHead, answer("any")});
  EXPECT_EQ(ask(t, bhttp::verb::get, "a")->body(), "a|");
  EXPECT_EQ(ask(t, bhttp::verb::get, "a/2024/11/24")->body(), "archive|2024/11/24");
  EXPECT_EQ(ask(t, bhttp::verb::get, "b")->body(), "any|b");
  EXPECT_EQ(t.find("a/")->path, "a/");
  EXPECT_EQ(EndpointTable().find("x"), nullptr);
}

TEST_F(EndpointTableTest, NoMatchIsLeftToTheCaller) {
  EndpointTable t;
  t.add({"post", Match::exact, kPost, answer("post")});
  bool matched = true;
  EXPECT_FALSE(ask(t, bhttp::verb::post, "posts", &matched));
  EXPECT_FALSE(matched);
}

TEST_F(EndpointTableTest, AMethodTheEntryDoesNotTakeIs405WithItsAllow) {
  std::atomic<int> ran{0};
  EndpointTable t;
  auto count = [&ran](const Call& c) {
    ++ran;
    c.ex->respond(Response(bhttp::status::ok, 11));
  };
  t.add({"page", Match::exact, kGetHead, count});
  t.add({"post", Match::exact, kPost, count});
  t.add({"comet", Match::exact, kGet, count});
  t.add({"passwd", Match::exact, kGetHead | kPost, count});
  t.add({"a", Match::exact, kAnyMethod, count});

  auto refused = ask(t, bhttp::verb::post, "page");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result(), bhttp::status::method_not_allowed);
  EXPECT_EQ((*refused)[bhttp::field::allow], "GET, HEAD");
  EXPECT_EQ((*ask(t, bhttp::verb::get, "post"))[bhttp::field::allow], "POST");
  EXPECT_EQ((*ask(t, bhttp::verb::put, "post"))[bhttp::field::allow], "POST");
  EXPECT_EQ((*ask(t, bhttp::verb::post, "comet"))[bhttp::field::allow], "GET");
  EXPECT_EQ((*ask(t, bhttp::verb::delete_, "passwd"))[bhttp::field::allow], "GET, HEAD, POST");
  EXPECT_EQ(ran.load(), 0) << "no handler runs for a refused method";

  EXPECT_EQ(ask(t, bhttp::verb::head, "page")->result(), bhttp::status::ok);
  EXPECT_EQ(ask(t, bhttp::verb::head, "comet")->result(), bhttp::status::ok) << "HEAD wherever GET";
  EXPECT_EQ(ask(t, bhttp::verb::post, "passwd")->result(), bhttp::status::ok);
  EXPECT_EQ(ask(t, bhttp::verb::put, "a")->result(), bhttp::status::ok);
  EXPECT_EQ(ran.load(), 4);
}

TEST_F(EndpointTableTest, AllowHeaderOfAMethodSet) {
  EXPECT_EQ(allow_header(kGetHead), "GET, HEAD");
  EXPECT_EQ(allow_header(kGet), "GET");
  EXPECT_EQ(allow_header(kPost), "POST");
  EXPECT_EQ(allow_header(kGetHead | kPost), "GET, HEAD, POST");
}

TEST_F(EndpointTableTest, AMayBlockHandlerRunsOnTheBlockingPool) {
  boost::asio::thread_pool pool(1);
  std::promise<std::thread::id> pool_thread;
  boost::asio::post(pool, [&] { pool_thread.set_value(std::this_thread::get_id()); });
  std::thread::id pool_id = pool_thread.get_future().get();

  std::atomic<std::thread::id> blocking_ran_on{}, quick_ran_on{};
  EndpointTable t(&pool);
  t.add({"a/", Match::prefix, kGetHead,
         [&](const Call& c) {
           blocking_ran_on = std::this_thread::get_id();
           c.ex->respond(Response(bhttp::status::ok, 11, "day " + c.rest));
         },
         /*may_block=*/true});
  t.add({"seq", Match::exact, kGetHead, [&](const Call& c) {
           quick_ran_on = std::this_thread::get_id();
           c.ex->respond(Response(bhttp::status::ok, 11));
         }});
  auto day = ask(t, bhttp::verb::get, "a/2024/11/24");
  ASSERT_TRUE(day);
  EXPECT_EQ(day->body(), "day 2024/11/24") << "answered from the pool, through the connection's executor";
  EXPECT_EQ(blocking_ran_on.load(), pool_id);
  ASSERT_TRUE(ask(t, bhttp::verb::get, "seq"));
  EXPECT_EQ(quick_ran_on.load(), std::this_thread::get_id());
  pool.join();
}

TEST(EndpointTableDeathTest, AMayBlockEntryWithoutABlockingPoolIsABrokenInvariant) {
  EndpointTable t;  // no blocking pool: such an entry would run on an I/O thread
  EXPECT_DEATH(t.add({"a/", Match::prefix, kGetHead, [](const Call&) {}, /*may_block=*/true}),
               "may block but its table has no blocking pool");
  t.add({"seq", Match::exact, kGetHead, [](const Call&) {}});  // a quick one is fine
}

}  // namespace
}  // namespace chaton::endpoints
