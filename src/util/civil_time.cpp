#include "util/civil_time.h"

#include <cstdio>

#include "util/text.h"

namespace chaton {

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
int64_t days_from_civil(Date d) {
  int64_t y = d.year - (d.month <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (d.month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date civil_from_days(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Date{static_cast<int>(y + (m <= 2)), m, d};
}

DateTime utc_from_seconds(int64_t sec) {
  int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
  int64_t rem = sec - days * 86400;
  DateTime t;
  t.date = civil_from_days(days);
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>(rem / 60 % 60);
  t.second = static_cast<int>(rem % 60);
  return t;
}

int64_t seconds_from_date(Date d) { return days_from_civil(d) * 86400; }
Date next_day(Date d) { return civil_from_days(days_from_civil(d) + 1); }
Date previous_day(Date d) { return civil_from_days(days_from_civil(d) - 1); }

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return kDays[month - 1] + (month == 2 && leap);
}

bool is_valid_date(Date d) {
  return d.year >= 1970 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
         d.day <= days_in_month(d.year, d.month);
}

std::string format_date_path(Date d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d", d.year, d.month, d.day);
  return buf;
}

std::optional<Date> parse_date_path(std::string_view s) {
  if (s.size() != 10 || s[4] != '/' || s[7] != '/') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  Date d{static_cast<int>(*parse_int(s.substr(0, 4))), static_cast<int>(*parse_int(s.substr(5, 2))),
         static_cast<int>(*parse_int(s.substr(8, 2)))};
  if (!is_valid_date(d)) return std::nullopt;
  return d;
}

namespace {
// The UTC date and time of `sec` through `format`, which takes year, month,
// day, hour, minute and second in that order.
std::string format_date_time(int64_t sec, const char* format) {
  DateTime t = utc_from_seconds(sec);
  char buf[48];
  std::snprintf(buf, sizeof buf, format, t.date.year, t.date.month, t.date.day, t.hour, t.minute, t.second);
  return buf;
}
}  // namespace

std::string format_timestamp(int64_t sec) {
  return format_date_time(sec, "%04d/%02d/%02d %02d:%02d:%02d UTC");
}

std::string format_iso_timestamp(int64_t sec) {
  return format_date_time(sec, "%04d-%02d-%02dT%02d:%02d:%02dZ");
}

std::string format_rfc822(int64_t sec) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  DateTime t = utc_from_seconds(sec);
  int64_t days = days_from_civil(t.date);
  int wd = static_cast<int>(((days % 7) + 7) % 7);  // 1970-01-01 was a Thursday
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[wd], t.date.day,
                kMonths[t.date.month - 1], t.date.year, t.hour, t.minute, t.second);
  return buf;
}

}  // namespace chaton
