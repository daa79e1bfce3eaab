// Tests for the UTC date and time formats (src/util/civil_time.h).
#include "util/civil_time.h"

#include <gtest/gtest.h>

namespace chaton {
namespace {

// 2024-11-24 12:06:40 UTC, and the first second of a leap day.
constexpr int64_t kSunday = 1732450000;
constexpr int64_t kLeapDay = 1709164800;

TEST(CivilTimeFormat, TimestampIsTheOriginalsUtcForm) {
  EXPECT_EQ(format_timestamp(kSunday), "2024/11/24 12:06:40 UTC");
  EXPECT_EQ(format_timestamp(kLeapDay), "2024/02/29 00:00:00 UTC");
}

TEST(CivilTimeFormat, IsoTimestampIsMachineReadableUtc) {
  EXPECT_EQ(format_iso_timestamp(kSunday), "2024-11-24T12:06:40Z");
  EXPECT_EQ(format_iso_timestamp(kLeapDay), "2024-02-29T00:00:00Z");
  EXPECT_EQ(format_iso_timestamp(0), "1970-01-01T00:00:00Z");
}

TEST(CivilTimeFormat, Rfc822ForFeeds) {
  EXPECT_EQ(format_rfc822(kSunday), "Sun, 24 Nov 2024 12:06:40 +0000");
}

}  // namespace
}  // namespace chaton
