#include "metrics_text.h"

#include <gtest/gtest.h>

namespace chaton::bench {
namespace {

TEST(MetricSum, AddsEverySeriesOfTheNamedMetricOnly) {
  const char* text =
      "# HELP chaton_readers Readers now.\n"
      "# TYPE chaton_readers gauge\n"
      "chaton_readers{room=\"lobby\",transport=\"longpoll\"} 300\n"
      "chaton_readers{room=\"lobby\",transport=\"sse\"} 2\n"
      "chaton_readers_total 1000\n"
      "chaton_open_connections 305\n"
      "chaton_readers{room=\"other\",transport=\"ws\"} 1";
  EXPECT_EQ(metric_sum(text, "chaton_readers"), 303);
  EXPECT_EQ(metric_sum(text, "chaton_open_connections"), 305);
  EXPECT_EQ(metric_sum(text, "chaton_missing"), 0);
}

}  // namespace
}  // namespace chaton::bench
