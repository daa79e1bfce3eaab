// Tests for the blacklist (spec A3, B5): address and CIDR parsing for IPv4
// and IPv6, IPv4-mapped addresses, comments and bad lines, and re-reading
// the file when it changes (driven by a ManualClock).
#include "access/blacklist.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace chaton {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kRecheck = std::chrono::seconds(5);

// A fresh directory for one test, under $CHATON_TEST_TMP when set.
fs::path test_dir() {
  static std::atomic<int> counter{0};
  const char* env = std::getenv("CHATON_TEST_TMP");
  fs::path base = env && *env ? fs::path(env) : fs::temp_directory_path();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = base / ("blacklist-" + std::string(info->test_suite_name()) + "-" + info->name() +
                         "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

AddressRanges parse_clean(std::string_view text) {
  std::vector<std::string> errors;
  AddressRanges ranges = AddressRanges::parse(text, &errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  return ranges;
}

// ---- AddressRanges ------------------------------------------------------------------

TEST(AddressRanges, SingleIpv4Address) {
  AddressRanges r = parse_clean("192.0.2.7\n");
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.contains("192.0.2.7"));
  EXPECT_FALSE(r.contains("192.0.2.8"));
  EXPECT_FALSE(r.contains("192.0.2.6"));
  EXPECT_FALSE(r.contains("::1"));
}

TEST(AddressRanges, Ipv4Slash24) {
  AddressRanges r = parse_clean("198.51.100.0/24");
  EXPECT_TRUE(r.contains("198.51.100.0"));
  EXPECT_TRUE(r.contains("198.51.100.1"));
  EXPECT_TRUE(r.contains("198.51.100.255"));
  EXPECT_FALSE(r.contains("198.51.101.0"));
  EXPECT_FALSE(r.contains("198.51.99.255"));
}

TEST(AddressRanges, Ipv4HostBitsInTheNetworkAreIgnored) {
  AddressRanges r = parse_clean("10.1.2.3/16");
  EXPECT_TRUE(r.contains("10.1.200.7"));
  EXPECT_FALSE(r.contains("10.2.0.0"));
}

TEST(AddressRanges, OddPrefixLengths) {
  AddressRanges r = parse_clean("203.0.113.64/27");  // .64 - .95
  EXPECT_FALSE(r.contains("203.0.113.63"));
  EXPECT_TRUE(r.contains("203.0.113.64"));
  EXPECT_TRUE(r.contains("203.0.113.95"));
  EXPECT_FALSE(r.contains("203.0.113.96"));
  AddressRanges r32 = parse_clean("203.0.113.5/32");
  EXPECT_TRUE(r32.contains("203.0.113.5"));
  EXPECT_FALSE(r32.contains("203.0.113.4"));
}

TEST(AddressRanges, Ipv4SlashZeroMatchesEveryIpv4AddressOnly) {
  AddressRanges r = parse_clean("0.0.0.0/0");
  EXPECT_TRUE(r.contains("1.2.3.4"));
  EXPECT_TRUE(r.contains("255.255.255.255"));
  EXPECT_TRUE(r.contains("::ffff:8.8.8.8"));
  EXPECT_FALSE(r.contains("2001:db8::1"));
}

TEST(AddressRanges, SingleIpv6Address) {
  AddressRanges r = parse_clean("2001:db8::42");
  EXPECT_TRUE(r.contains("2001:db8::42"));
  EXPECT_TRUE(r.contains("2001:0db8:0000:0000:0000:0000:0000:0042"));
  EXPECT_FALSE(r.contains("2001:db8::43"));
  EXPECT_FALSE(r.contains("192.0.2.1"));
}

TEST(AddressRanges, Ipv6Slash32) {
  AddressRanges r = parse_clean("2001:db8::/32");
  EXPECT_TRUE(r.contains("2001:db8::1"));
  EXPECT_TRUE(r.contains("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(r.contains("2001:db9::1"));
  EXPECT_FALSE(r.contains("2001:db7:ffff::1"));
}

TEST(AddressRanges, Ipv6SlashZeroMatchesEverything) {
  AddressRanges r = parse_clean("::/0");
  EXPECT_TRUE(r.contains("2001:db8::1"));
  EXPECT_TRUE(r.contains("192.0.2.1"));
}

TEST(AddressRanges, Ipv4RangeMatchesMappedAddresses) {
  AddressRanges r = parse_clean("192.0.2.0/24");
  EXPECT_TRUE(r.contains("192.0.2.7"));
  EXPECT_TRUE(r.contains("::ffff:192.0.2.7"));
  EXPECT_TRUE(r.contains("::ffff:c000:207"));
  EXPECT_FALSE(r.contains("::ffff:192.0.3.7"));
  EXPECT_FALSE(r.contains("::192.0.2.7"));  // IPv4-compatible, not mapped
}

TEST(AddressRanges, MappedEntryMatchesPlainIpv4) {
  AddressRanges r = parse_clean("::ffff:192.0.2.7");
  EXPECT_TRUE(r.contains("192.0.2.7"));
  EXPECT_FALSE(r.contains("192.0.2.8"));
  AddressRanges r2 = parse_clean("::ffff:192.0.2.0/120");
  EXPECT_TRUE(r2.contains("192.0.2.200"));
  EXPECT_FALSE(r2.contains("192.0.3.1"));
}

TEST(AddressRanges, CommentsBlankLinesAndWhitespace) {
  AddressRanges r = parse_clean(
      "# spammers\n"
      "\n"
      "   \t\n"
      "  192.0.2.1   # trailing comment\n"
      "\t2001:db8::/48\t\r\n"
      "#198.51.100.1\n"
      "203.0.113.0 / 24\n"
      "198.51.100.9");  // no final newline
  EXPECT_EQ(r.size(), 4u);
  EXPECT_TRUE(r.contains("192.0.2.1"));
  EXPECT_TRUE(r.contains("2001:db8:0:1::1"));
  EXPECT_FALSE(r.contains("2001:db8:1::1"));
  EXPECT_FALSE(r.contains("198.51.100.1"));
  EXPECT_TRUE(r.contains("203.0.113.77"));
  EXPECT_TRUE(r.contains("198.51.100.9"));
}

TEST(AddressRanges, BadLinesAreReportedAndSkipped) {
  std::vector<std::string> errors;
  AddressRanges r = AddressRanges::parse(
      "192.0.2.1\n"
      "not-an-address\n"
      "192.0.2.0/33\n"
      "2001:db8::/129\n"
      "192.0.2.0/-1\n"
      "192.0.2.0/\n"
      "192.0.2.0/abc\n"
      "1.2.3\n"
      "192.0.2.256\n"
      "2001:db8::1 extra\n"
      "198.51.100.0/24\n",
      &errors);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_TRUE(r.contains("192.0.2.1"));
  EXPECT_TRUE(r.contains("198.51.100.3"));
  EXPECT_FALSE(r.contains("192.0.2.2"));
  ASSERT_EQ(errors.size(), 9u);
  EXPECT_EQ(errors[0].rfind("line 2: ", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("not-an-address"), std::string::npos);
  EXPECT_EQ(errors[1].rfind("line 3: ", 0), 0u) << errors[1];
  EXPECT_NE(errors[1].find("0..32"), std::string::npos) << errors[1];
  EXPECT_EQ(errors[2].rfind("line 4: ", 0), 0u) << errors[2];
  EXPECT_NE(errors[2].find("0..128"), std::string::npos) << errors[2];
  EXPECT_EQ(errors[8].rfind("line 10: ", 0), 0u) << errors[8];
}

TEST(AddressRanges, ParseWithoutErrorSink) {
  AddressRanges r = AddressRanges::parse("garbage\n192.0.2.1\n");
  EXPECT_EQ(r.size(), 1u);
}

TEST(AddressRanges, NonAddressInputIsFalse) {
  AddressRanges r = parse_clean("0.0.0.0/0\n::/0\n");
  for (const char* s : {"", "   ", "localhost", "192.0.2.1/24", "1.2.3", "::g", "[::1]",
                        "192.0.2.1:80", "unknown"}) {
    EXPECT_FALSE(r.contains(s)) << s;
  }
  EXPECT_FALSE(r.contains(std::string_view("1.2.3.4\0x", 9)));
}

TEST(AddressRanges, EmptyListContainsNothing) {
  AddressRanges r = parse_clean("");
  EXPECT_EQ(r.size(), 0u);
  EXPECT_FALSE(r.contains("192.0.2.1"));
  EXPECT_FALSE(r.contains("::1"));
}

TEST(AddressRanges, Ipv6ZoneIsIgnoredWhenMatching) {
  AddressRanges r = parse_clean("fe80::/10");
  EXPECT_TRUE(r.contains("fe80::1%eth0"));
}

// ---- Blacklist ----------------------------------------------------------------------

TEST(Blacklist, ReadsTheFileOnFirstUse) {
  fs::path dir = test_dir();
  write_file(dir / "blacklist.txt", "192.0.2.0/24\n");
  ManualClock clock(SysTime{} + std::chrono::hours(1000));
  Blacklist list(dir / "blacklist.txt", clock, kRecheck);
  EXPECT_TRUE(list.contains("192.0.2.9"));
  EXPECT_FALSE(list.contains("198.51.100.1"));
  fs::remove_all(dir);
}

TEST(Blacklist, ReloadsAfterTheIntervalWhenTheFileChanges) {
  fs::path dir = test_dir();
  fs::path file = dir / "blacklist.txt";
  write_file(file, "192.0.2.1\n");
  ManualClock clock;
  Blacklist list(file, clock, kRecheck);
  EXPECT_TRUE(list.contains("192.0.2.1"));
  EXPECT_FALSE(list.contains("2001:db8::5"));

  write_file(file, "# now IPv6 only\n2001:db8::/32\n");  // a different size
  EXPECT_TRUE(list.contains("192.0.2.1")) << "re-read before the interval";

  clock.advance(kRecheck - 1ms);
  EXPECT_TRUE(list.contains("192.0.2.1")) << "re-read before the interval";

  clock.advance(2ms);
  EXPECT_FALSE(list.contains("192.0.2.1"));
  EXPECT_TRUE(list.contains("2001:db8::5"));
  fs::remove_all(dir);
}

TEST(Blacklist, SameSizeRewriteIsSeenThroughTheModificationTime) {
  fs::path dir = test_dir();
  fs::path file = dir / "blacklist.txt";
  write_file(file, "192.0.2.1\n");
  ManualClock clock;
  Blacklist list(file, clock, kRecheck);
  EXPECT_TRUE(list.contains("192.0.2.1"));

  write_file(file, "192.0.2.2\n");  // same size
  fs::last_write_time(file, fs::last_write_time(file) + std::chrono::seconds(10));
  clock.advance(kRecheck);
  EXPECT_FALSE(list.contains("192.0.2.1"));
  EXPECT_TRUE(list.contains("192.0.2.2"));
  fs::remove_all(dir);
}

TEST(Blacklist, MissingFileBlacklistsNothing) {
  fs::path dir = test_dir();
  ManualClock clock;
  Blacklist list(dir / "blacklist.txt", clock, kRecheck);
  EXPECT_FALSE(list.contains("192.0.2.1"));
  EXPECT_FALSE(list.contains("::1"));
  fs::remove_all(dir);
}

TEST(Blacklist, FileAppearingAndDisappearing) {
  fs::path dir = test_dir();
  fs::path file = dir / "blacklist.txt";
  ManualClock clock;
  Blacklist list(file, clock, kRecheck);
  EXPECT_FALSE(list.contains("192.0.2.1"));

  write_file(file, "192.0.2.1\n");
  clock.advance(kRecheck);
  EXPECT_TRUE(list.contains("192.0.2.1"));

  fs::remove(file);
  EXPECT_TRUE(list.contains("192.0.2.1")) << "re-read before the interval";
  clock.advance(kRecheck);
  EXPECT_FALSE(list.contains("192.0.2.1"));
  fs::remove_all(dir);
}

TEST(Blacklist, BadLinesGoToStandardError) {
  fs::path dir = test_dir();
  fs::path file = dir / "blacklist.txt";
  write_file(file, "192.0.2.1\nbogus\n10.0.0.0/99\n");
  ManualClock clock;
  Blacklist list(file, clock, kRecheck);
  ::testing::internal::CaptureStderr();
  bool listed = list.contains("192.0.2.1");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(listed);
  std::string prefix = "blacklist " + file.string() + ": ";
  EXPECT_NE(err.find(prefix + "line 2: "), std::string::npos) << err;
  EXPECT_NE(err.find(prefix + "line 3: "), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;

  // Not reported again while the file is unchanged.
  clock.advance(kRecheck);
  ::testing::internal::CaptureStderr();
  list.contains("192.0.2.1");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  fs::remove_all(dir);
}

TEST(Blacklist, ConcurrentCallersAgree) {
  fs::path dir = test_dir();
  fs::path file = dir / "blacklist.txt";
  write_file(file, "192.0.2.0/24\n");
  ManualClock clock;
  Blacklist list(file, clock, std::chrono::milliseconds(0));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!list.contains("192.0.2.77") || list.contains("198.51.100.1")) ++wrong;
        clock.advance(1ms);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chaton
