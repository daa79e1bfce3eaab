// UTC calendar arithmetic without the C library's time zone state.
// Day boundaries everywhere in Chaton are UTC (archives, permalinks).
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chaton {

struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  friend auto operator<=>(const Date&, const Date&) = default;
};

struct DateTime {
  Date date;
  int hour = 0, minute = 0, second = 0;
};

int64_t days_from_civil(Date d);
Date civil_from_days(int64_t days);
DateTime utc_from_seconds(int64_t sec);
int64_t seconds_from_date(Date d);  // 00:00:00 UTC of that day
Date next_day(Date d);
Date previous_day(Date d);
bool is_valid_date(Date d);
int days_in_month(int year, int month);

// "YYYY/MM/DD", as in archive URLs and file paths.
std::string format_date_path(Date d);
// Parses "YYYY/MM/DD" (exactly); nullopt when malformed or not a real day.
std::optional<Date> parse_date_path(std::string_view s);
// "YYYY/MM/DD HH:MM:SS UTC"
std::string format_timestamp(int64_t sec);
// "YYYY-MM-DDTHH:MM:SSZ" (ISO 8601, UTC), e.g. for HTML's <time datetime>
std::string format_iso_timestamp(int64_t sec);
// RFC 822 date for RSS, e.g. "Sun, 24 Nov 2024 12:06:40 +0000"
std::string format_rfc822(int64_t sec);

}  // namespace chaton
