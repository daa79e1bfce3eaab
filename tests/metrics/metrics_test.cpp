#include "metrics/metrics.h"

#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace chaton::metrics {
namespace {

using namespace std::chrono_literals;

TEST(Histogram, PutsAnObservationInTheFirstBucketWhoseBoundIsNotBelowIt) {
  const double bounds[] = {0.001, 0.01, 0.1};
  Histogram h(bounds);
  h.observe(500us);   // <= 0.001
  h.observe(1ms);     // == 0.001: `le` includes the bound
  h.observe(1001us);  // just over: the next bucket
  h.observe(50ms);
  h.observe(3s);  // over every bound: +Inf
  EXPECT_EQ(h.bucket_counts(), (std::vector<uint64_t>{2, 1, 1, 1}));
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum(), 500us + 1ms + 1001us + 50ms + 3s);
}

TEST(Histogram, CountsEveryObservationFromManyThreads) {
  Histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) h.observe(std::chrono::microseconds(i));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.count(), 40000u);
}

TEST(Registry, ReturnsTheSameSeriesForTheSameNameAndLabels) {
  Registry r;
  auto a = r.counter("chaton_x_total", "x", {{"room", "a"}});
  auto again = r.counter("chaton_x_total", "x", {{"room", "a"}});
  auto b = r.counter("chaton_x_total", "x", {{"room", "b"}});
  EXPECT_EQ(a.get(), again.get());
  EXPECT_NE(a.get(), b.get());
}

TEST(Registry, RendersCountersAndGaugesWithHelpTypeAndLabels) {
  Registry r;
  auto posts = r.counter("chaton_posts_total", "Posts accepted.", {{"room", "main"}});
  auto other = r.counter("chaton_posts_total", "Posts accepted.", {{"room", "other"}});
  auto readers = r.gauge("chaton_readers", "Readers.", {{"room", "main"}, {"transport", "sse"}});
  posts->add();
  posts->add(2);
  other->add();
  readers->add(3);
  readers->sub();
  r.gauge_fn("chaton_open_connections", "Open connections.", {}, [] { return int64_t{7}; });
  EXPECT_EQ(r.render(),
            "# HELP chaton_posts_total Posts accepted.\n"
            "# TYPE chaton_posts_total counter\n"
            "chaton_posts_total{room=\"main\"} 3\n"
            "chaton_posts_total{room=\"other\"} 1\n"
            "# HELP chaton_readers Readers.\n"
            "# TYPE chaton_readers gauge\n"
            "chaton_readers{room=\"main\",transport=\"sse\"} 2\n"
            "# HELP chaton_open_connections Open connections.\n"
            "# TYPE chaton_open_connections gauge\n"
            "chaton_open_connections 7\n");
}

TEST(Registry, RendersAHistogramWithCumulativeBucketsSumAndCount) {
  Registry r;
  const double bounds[] = {0.001, 0.5, 2};
  auto h = r.histogram("chaton_sync_seconds", "Syncs.", {{"room", "main"}}, bounds);
  h->observe(250us);
  h->observe(100ms);
  h->observe(5s);
  EXPECT_EQ(r.render(),
            "# HELP chaton_sync_seconds Syncs.\n"
            "# TYPE chaton_sync_seconds histogram\n"
            "chaton_sync_seconds_bucket{room=\"main\",le=\"0.001\"} 1\n"
            "chaton_sync_seconds_bucket{room=\"main\",le=\"0.5\"} 2\n"
            "chaton_sync_seconds_bucket{room=\"main\",le=\"2\"} 2\n"
            "chaton_sync_seconds_bucket{room=\"main\",le=\"+Inf\"} 3\n"
            "chaton_sync_seconds_sum{room=\"main\"} 5.10025\n"
            "chaton_sync_seconds_count{room=\"main\"} 3\n");
}

TEST(Registry, EscapesLabelValuesAndHelp) {
  Registry r;
  auto c = r.counter("chaton_x_total", "a \\ back\nslash", {{"room", "q\"uo\\te\nd"}});
  c->add();
  EXPECT_EQ(r.render(),
            "# HELP chaton_x_total a \\\\ back\\nslash\n"
            "# TYPE chaton_x_total counter\n"
            "chaton_x_total{room=\"q\\\"uo\\\\te\\nd\"} 1\n");
}

TEST(Registry, ReadsACallbackCounterAtEachRender) {
  Registry r;
  uint64_t n = 1;
  r.counter_fn("chaton_refused_total", "Refused.", {{"limit", "post_rate"}}, [&] { return n; });
  EXPECT_NE(r.render().find("chaton_refused_total{limit=\"post_rate\"} 1\n"), std::string::npos);
  n = 5;
  EXPECT_NE(r.render().find("chaton_refused_total{limit=\"post_rate\"} 5\n"), std::string::npos);
}

TEST(FormatValue, WritesIntegersPlainlyAndInfinityAsTheFormatDoes) {
  EXPECT_EQ(format_value(10), "10");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1e-4), "0.0001");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
}

TEST(Timer, ObservesOnceWhenDoneAndAtTheEndOfItsScope) {
  Histogram h;
  {
    Timer t(h);
    t.done();
  }
  { Timer t(h); }
  EXPECT_EQ(h.count(), 2u);
}

}  // namespace
}  // namespace chaton::metrics
