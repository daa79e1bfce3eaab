// Outgoing webhooks: the JSON body, delivery with retries and back-off
// against a receiver in the test that fails and then accepts, the bounded
// queue, giving up, posting never waiting for a receiver, and the whole
// path from [[room.webhook]] in the configuration through a real server.
#include "webhooks/webhook.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "client/client.h"
#include "client/test_server.h"
#include "rooms/room.h"
#include "store/file_store.h"
#include "support/posts.h"

namespace chaton::webhooks {
namespace {

using namespace std::chrono_literals;
using chaton::testing::make_post;
using chaton::testing::TempDir;
using chaton::testing::TestServer;
using chaton::testing::wait_until;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;

constexpr unsigned kAccept = 200;
constexpr unsigned kFail = 500;

// An HTTP receiver on 127.0.0.1:<any port>: answers its requests with the
// statuses of `script` in turn, then 200, each after `delay`.
class Receiver {
 public:
  struct Hit {
    std::string target;
    std::string content_type;
    std::string body;
    unsigned answered = 0;
  };

  explicit Receiver(std::vector<unsigned> script, std::chrono::milliseconds delay = 0ms)
      : script_(std::move(script)), delay_(delay), acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() { stop(); }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook?token=t0k";
  }
  std::vector<Hit> hits() {
    std::lock_guard lock(mu_);
    return hits_;
  }
  // Requests read so far, counted before their answer's delay.
  size_t arrived() const { return arrived_.load(); }
  size_t accepted() {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& h : hits_) n += h.answered == kAccept;
    return n;
  }
  void stop() {
    if (stopping_.exchange(true)) return;
    boost::system::error_code ec;
    tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);  // ends the blocking accept
    if (thread_.joinable()) thread_.join();
  }

 private:
  void serve() {
    for (size_t n = 0;; ++n) {
      tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stopping_) return;
      beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> req;
      bhttp::read(sock, buffer, req, ec);
      if (ec) continue;
      ++arrived_;
      unsigned status = n < script_.size() ? script_[n] : kAccept;
      std::this_thread::sleep_for(delay_);
      {
        std::lock_guard lock(mu_);
        hits_.push_back(
            {std::string(req.target()), std::string(req[bhttp::field::content_type]), req.body(), status});
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
      res.set(bhttp::field::content_type, "text/plain");
      res.body() = status == kAccept ? "thanks\n" : "receiver is down\n";
      res.prepare_payload();
      bhttp::write(sock, res, ec);
      sock.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  std::vector<unsigned> script_;
  std::chrono::milliseconds delay_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> arrived_{0};
  std::mutex mu_;
  std::vector<Hit> hits_;
};

// Lines a dispatcher logged.
struct Log {
  std::mutex mu;
  std::vector<std::string> lines;
  LogFn fn() {
    return [this](std::string_view line) {
      std::lock_guard lock(mu);
      lines.emplace_back(line);
    };
  }
  bool contains(std::string_view needle) {
    std::lock_guard lock(mu);
    for (const auto& l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

WebhookOptions fast_options() {
  WebhookOptions o;
  o.first_retry = 20ms;
  o.max_retry = 80ms;
  o.timeout = 5s;
  return o;
}

// When the posts below were written: 2024-11-24T12:26:40.123456Z.
constexpr int64_t kPostSec = 1732451200;
constexpr int64_t kPostUsec = 123456;

constexpr std::string_view kRoomUrl = "http://chat.example/lobby/";

TEST(WebhookJson, CarriesRoomNickTimeTextAndPermalink) {
  std::string body =
      webhook_json("lobby", kRoomUrl, make_post("shiro", kPostSec, kPostUsec, "hi \"there\"\n<b>"));
  EXPECT_EQ(body,
            "{\"room\":\"lobby\",\"nick\":\"shiro\",\"time\":\"2024-11-24T12:26:40.123456Z\","
            "\"sec\":1732451200,\"usec\":123456,\"text\":\"hi \\\"there\\\"\\n<b>\","
            "\"permalink\":\"http://chat.example/lobby/a/2024/11/24#entry-67431b80-1e240\"}");
}

TEST(WebhookJson, FormatsTimesAsRfc3339Utc) {
  EXPECT_EQ(format_rfc3339(0, 0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(951782400 + 86399, 999999), "2000-02-29T23:59:59.999999Z");
}

TEST(Dispatcher, RetriesWithBackoffUntilTheReceiverAccepts) {
  Receiver receiver({kFail, kFail});
  Log log;
  Dispatcher d("lobby", std::string(kRoomUrl), {receiver.url()}, fast_options(), log.fn());
  std::vector<Post> posts{make_post("alice", kPostSec, kPostUsec, "hello")};
  d.publish(posts);
  ASSERT_TRUE(wait_until([&] { return d.stats().delivered == 1; }));
  auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(receiver.accepted(), 1u);
  for (const auto& h : hits) {
    EXPECT_EQ(h.target, "/hook?token=t0k");
    EXPECT_EQ(h.content_type, "application/json");
    EXPECT_EQ(h.body, hits[0].body) << "every attempt sends the same post";
  }
  json::object o = json::parse(hits[2].body).as_object();
  EXPECT_EQ(o["room"], "lobby");
  EXPECT_EQ(o["nick"], "alice");
  EXPECT_EQ(o["text"], "hello");
  EXPECT_EQ(o["time"], "2024-11-24T12:26:40.123456Z");
  WebhookStats s = d.stats();
  EXPECT_EQ(s.attempts, 3u);
  EXPECT_EQ(s.given_up, 0u);
  EXPECT_TRUE(log.contains("delivery failed (receiver is down); retrying")) << "the failure is logged";
}

TEST(Dispatcher, DeliversEveryUrlInOrder) {
  Receiver a({});
  Receiver b({kFail});
  Dispatcher d("lobby", std::string(kRoomUrl), {a.url(), b.url()}, fast_options(), [](auto) {});
  std::vector<Post> batch{make_post("n", kPostSec, kPostUsec, "1"), make_post("n", kPostSec, kPostUsec, "2")};
  d.publish(batch);
  std::vector<Post> later{make_post("n", kPostSec, kPostUsec, "3")};
  d.publish(later);
  ASSERT_TRUE(wait_until([&] { return d.stats().delivered == 6; }));
  for (Receiver* r : {&a, &b}) {
    std::vector<std::string> texts;
    for (const auto& h : r->hits())
      if (h.answered == kAccept) texts.emplace_back(json::parse(h.body).at("text").as_string());
    EXPECT_EQ(texts, (std::vector<std::string>{"1", "2", "3"}));
  }
}

TEST(Dispatcher, GivesUpAfterMaxAttempts) {
  Receiver receiver({kFail, kFail, kFail, kFail});
  Log log;
  WebhookOptions o = fast_options();
  o.max_attempts = 3;
  Dispatcher d("lobby", std::string(kRoomUrl), {receiver.url()}, o, log.fn());
  std::vector<Post> first{make_post("n", kPostSec, kPostUsec, "lost")};
  d.publish(first);
  ASSERT_TRUE(wait_until([&] { return d.stats().given_up == 1; }));
  EXPECT_EQ(d.stats().attempts, 3u);
  EXPECT_TRUE(log.contains("giving up on a post after 3 attempts"));
  // The next post goes on (4th answer fails, the 5th is accepted).
  std::vector<Post> second{make_post("n", kPostSec, kPostUsec, "kept")};
  d.publish(second);
  ASSERT_TRUE(wait_until([&] { return d.stats().delivered == 1; }));
  EXPECT_EQ(json::parse(receiver.hits().back().body).at("text"), "kept");
}

TEST(Dispatcher, AnUnreachableReceiverIsRetriedToo) {
  std::string url;
  {
    Receiver gone({});
    url = gone.url();
  }
  Log log;
  WebhookOptions o = fast_options();
  o.max_attempts = 2;
  Dispatcher d("lobby", std::string(kRoomUrl), {url}, o, log.fn());
  std::vector<Post> posts{make_post("n", kPostSec, kPostUsec, "x")};
  d.publish(posts);
  ASSERT_TRUE(wait_until([&] { return d.stats().given_up == 1; }));
  EXPECT_EQ(d.stats().attempts, 2u);
  EXPECT_TRUE(log.contains("connecting"));
}

TEST(Dispatcher, AFullQueueDropsTheOldestAndSaysSo) {
  Receiver receiver({}, 100ms);  // holds each answer: the burst comes while the first post is out
  Log log;
  WebhookOptions o = fast_options();
  o.queue_limit = 3;
  Dispatcher d("lobby", std::string(kRoomUrl), {receiver.url()}, o, log.fn());
  std::vector<Post> first{make_post("n", kPostSec, kPostUsec, "0")};
  d.publish(first);
  ASSERT_TRUE(wait_until([&] { return receiver.arrived() == 1; }));  // out of the queue, being delivered
  std::vector<Post> burst;
  for (int i = 1; i <= 10; ++i) burst.push_back(make_post("n", kPostSec, kPostUsec, std::to_string(i)));
  d.publish(burst);
  ASSERT_TRUE(wait_until([&] { return d.stats().delivered == 4; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(d.stats().dropped, 7u);
  EXPECT_EQ(d.stats().delivered, 4u);
  std::vector<std::string> texts;
  for (const auto& h : receiver.hits()) texts.emplace_back(json::parse(h.body).at("text").as_string());
  EXPECT_EQ(texts, (std::vector<std::string>{"0", "8", "9", "10"}));
  EXPECT_TRUE(log.contains("queue full (3 posts): dropping the oldest"));
}

TEST(Dispatcher, StopAbandonsAPendingRetryAtOnce) {
  Receiver receiver({kFail, kFail, kFail});
  WebhookOptions o = fast_options();
  o.first_retry = 60s;
  auto d = std::make_unique<Dispatcher>("lobby", std::string(kRoomUrl),
                                        std::vector<std::string>{receiver.url()}, o, [](auto) {});
  std::vector<Post> posts{make_post("n", kPostSec, kPostUsec, "x")};
  d->publish(posts);
  ASSERT_TRUE(wait_until([&] { return d->stats().attempts == 1; }));
  auto start = std::chrono::steady_clock::now();
  d.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

// A room (real files) with a webhook whose receiver is slow and failing:
// posts are still acknowledged at disk speed, and delivered later, in order.
TEST(RoomWebhooks, PostingNeverWaitsForTheReceiver) {
  constexpr auto kReceiverDelay = 400ms;
  constexpr int kPosts = 5;
  Receiver receiver({kFail, kFail}, kReceiverDelay);
  TempDir dir("webhook-room-");
  RoomSettings settings;
  settings.config.slug = "lobby";
  settings.config.name = "Lobby";
  settings.config.data_dir = dir.path().string();
  settings.config.webhooks = {receiver.url()};
  settings.url = std::string(kRoomUrl);
  settings.render.room_url = settings.url;
  auto room =
      std::make_shared<Room>(settings, std::make_unique<FileStore>(dir.path()), SystemClock::instance());
  ASSERT_TRUE(room->open(nullptr));
  auto dispatcher = attach_webhooks(*room, fast_options(), [](auto) {});
  ASSERT_TRUE(dispatcher);

  auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= kPosts; ++i) {
    std::promise<Result<Post>> done;
    auto acked = done.get_future();
    room->post("alice", "post " + std::to_string(i), "127.0.0.1",
               [&done](Result<Post> r) { done.set_value(std::move(r)); });
    ASSERT_TRUE(acked.get());
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, kReceiverDelay) << "every post was acknowledged before one delivery finished";
  EXPECT_EQ(receiver.accepted(), 0u);

  ASSERT_TRUE(wait_until([&] { return dispatcher->stats().delivered == kPosts; }, 20s));
  std::vector<std::string> texts;
  for (const auto& h : receiver.hits())
    if (h.answered == kAccept) texts.emplace_back(json::parse(h.body).at("text").as_string());
  EXPECT_EQ(texts, (std::vector<std::string>{"post 1", "post 2", "post 3", "post 4", "post 5"}));
  room->close();
}

// The whole path: [[room.webhook]] in the configuration, a real server, a
// post through the client library, and the default back-off (1 s, 2 s).
TEST(ServerWebhooks, AConfiguredWebhookGetsEachPostOnceAfterTwoFailures) {
  Receiver receiver({kFail, kFail});
  TempDir dir("webhook-server-");
  auto parsed =
      parse_config("[site]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"" + dir.path().string() +
                       "\"\n[[room]]\nslug = \"lobby\"\n[[room.webhook]]\nurl = \"" + receiver.url() + "\"\n",
                   "test.toml");
  ASSERT_TRUE(parsed) << parsed.status().message();
  TestServer server(std::move(parsed.value()));
  ASSERT_TRUE(server.started());
  EXPECT_NE(server.log().find("posts go to 1 webhook(s)"), std::string::npos) << server.log();

  auto client = Client::connect(server.room_url(), "webhook-test");
  ASSERT_TRUE(client) << client.status().message();
  auto start = std::chrono::steady_clock::now();
  auto ack = client->talk("alice", "to the bridge");
  ASSERT_TRUE(ack) << ack.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms) << "posting did not wait for the hook";

  ASSERT_TRUE(wait_until([&] { return receiver.accepted() == 1; }, 15s));
  std::this_thread::sleep_for(300ms);  // nothing more arrives
  auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(receiver.accepted(), 1u);
  json::object o = json::parse(hits.back().body).as_object();
  EXPECT_EQ(o["room"], "lobby");
  EXPECT_EQ(o["nick"], "alice");
  EXPECT_EQ(o["text"], "to the bridge");
  EXPECT_EQ(std::string(o["permalink"].as_string()), ack->permalink);
  std::string expected_time = format_rfc3339(o["sec"].as_int64(), o["usec"].as_int64());
  EXPECT_EQ(std::string(o["time"].as_string()), expected_time);
}

}  // namespace
}  // namespace chaton::webhooks
