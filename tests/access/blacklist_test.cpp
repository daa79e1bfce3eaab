// Tests for the blacklist (docs/STORAGE.md, "blacklist.txt"): address and CIDR
// parsing for IPv4 and IPv6, IPv4-mapped addresses, comments and bad lines, a
// byte order mark, re-reading the file as soon as it changes, and failing
// closed when the file is there but cannot be read.
#include "access/blacklist.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/files.h"
#include "support/temp_dir.h"

namespace chaton {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_text;
using namespace std::chrono_literals;

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
  for (const char* s :
       {"", "   ", "localhost", "192.0.2.1/24", "1.2.3", "::g", "[::1]", "192.0.2.1:80", "unknown"}) {
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

bool listed(Blacklist& list, std::string_view address) {
  Status st = list.check(address);
  EXPECT_TRUE(st || st.code() == Errc::forbidden) << st.message();
  return st.code() == Errc::forbidden;
}

bool unreadable(Blacklist& list, std::string_view address) {
  Status st = list.check(address);
  if (st.code() != Errc::unavailable) return false;
  EXPECT_EQ(st.message(), "the blacklist cannot be read");
  return true;
}

TEST(Blacklist, ReadsTheFileOnFirstUse) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  write_text(dir / "blacklist.txt", "192.0.2.0/24\n");
  Blacklist list(dir / "blacklist.txt");
  EXPECT_TRUE(listed(list, "192.0.2.9"));
  EXPECT_EQ(list.check("192.0.2.9").message(), "posting from your address is not allowed");
  EXPECT_FALSE(listed(list, "198.51.100.1"));
  fs::remove_all(dir);
}

TEST(Blacklist, AChangeAppliesToTheVeryNextCheck) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "blacklist.txt";
  write_text(file, "192.0.2.1\n");
  Blacklist list(file);
  EXPECT_TRUE(listed(list, "192.0.2.1"));
  EXPECT_FALSE(listed(list, "2001:db8::5"));

  write_text(file, "# now IPv6 only\n2001:db8::/32\n");
  EXPECT_FALSE(listed(list, "192.0.2.1"));
  EXPECT_TRUE(listed(list, "2001:db8::5"));

  write_text(file, "192.0.2.2\n");  // shorter
  write_text(file, "192.0.2.3\n");  // same size, same moment
  EXPECT_FALSE(listed(list, "192.0.2.2"));
  EXPECT_TRUE(listed(list, "192.0.2.3"));
  fs::remove_all(dir);
}

TEST(Blacklist, AnOldFileReplacedByRenameIsSeen) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "blacklist.txt";
  write_text(file, "192.0.2.1\n");
  fs::last_write_time(file, fs::last_write_time(file) - std::chrono::hours(1));
  Blacklist list(file);
  EXPECT_TRUE(listed(list, "192.0.2.1"));
  EXPECT_TRUE(listed(list, "192.0.2.1"));  // unchanged and old: not read again

  write_text(dir / "new.txt", "192.0.2.2\n");  // same size
  fs::last_write_time(dir / "new.txt", fs::last_write_time(file));
  fs::rename(dir / "new.txt", file);  // another inode
  EXPECT_FALSE(listed(list, "192.0.2.1"));
  EXPECT_TRUE(listed(list, "192.0.2.2"));
  fs::remove_all(dir);
}

TEST(Blacklist, MissingFileBlacklistsNothing) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  Blacklist list(dir / "blacklist.txt");
  EXPECT_TRUE(list.check("192.0.2.1"));
  EXPECT_TRUE(list.check("::1"));
  fs::remove_all(dir);
}

TEST(Blacklist, FileAppearingAndDisappearing) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "blacklist.txt";
  Blacklist list(file);
  EXPECT_FALSE(listed(list, "192.0.2.1"));

  write_text(file, "192.0.2.1\n");
  EXPECT_TRUE(listed(list, "192.0.2.1"));

  fs::remove(file);
  EXPECT_FALSE(listed(list, "192.0.2.1"));
  fs::remove_all(dir);
}

TEST(Blacklist, AByteOrderMarkDoesNotHideTheFirstEntry) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "blacklist.txt";
  write_text(file,
             "\xEF\xBB\xBF"
             "192.0.2.1\n198.51.100.0/24\n");
  Blacklist list(file);
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(listed(list, "192.0.2.1"));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_TRUE(listed(list, "198.51.100.7"));
  fs::remove_all(dir);
}

// A file that is there but cannot be read refuses everyone (fails closed),
// said once on stderr, until a readable list is there.
TEST(Blacklist, AnUnreadableFileFailsClosed) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "blacklist.txt";
  struct Case {
    std::string what;
    std::function<void()> make;
  };
  std::vector<Case> cases{
      {"a directory", [&] { fs::create_directories(file); }},
      {"over 16 MiB",
       [&] {
         write_text(file, "192.0.2.1\n");
         fs::resize_file(file, kMaxBlacklistBytes + 1);  // sparse: quick to make
       }},
      {"a symbolic link loop", [&] { fs::create_symlink(file, file); }},
      {"a dangling symbolic link", [&] { fs::create_symlink(dir / "nowhere", file); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    c.make();
    Blacklist list(file);
    ::testing::internal::CaptureStderr();
    EXPECT_TRUE(unreadable(list, "192.0.2.1"));
    EXPECT_TRUE(unreadable(list, "198.51.100.1"));
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("blacklist " + file.string() + ": cannot read: "), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;  // said once

    fs::remove_all(file);
    write_text(file, "192.0.2.1\n");
    ::testing::internal::CaptureStderr();
    EXPECT_TRUE(listed(list, "192.0.2.1"));
    EXPECT_FALSE(listed(list, "198.51.100.1"));
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("readable again"), std::string::npos);
    fs::remove(file);
  }
  fs::remove_all(dir);
}

TEST(Blacklist, AFileThatBecomesUnreadableAfterAGoodLoadFailsClosed) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "blacklist.txt";
  write_text(dir / "real.txt", "192.0.2.1\n");
  fs::create_symlink(dir / "real.txt", file);
  Blacklist list(file);
  EXPECT_TRUE(listed(list, "192.0.2.1"));
  EXPECT_FALSE(listed(list, "198.51.100.1"));

  fs::remove(dir / "real.txt");  // the link now points to nothing
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(unreadable(list, "192.0.2.1"));
  EXPECT_TRUE(unreadable(list, "198.51.100.1"));
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("cannot read"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Blacklist, BadLinesGoToStandardError) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "blacklist.txt";
  write_text(file, "192.0.2.1\nbogus\n10.0.0.0/99\n");
  Blacklist list(file);
  ::testing::internal::CaptureStderr();
  bool is_listed = listed(list, "192.0.2.1");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(is_listed);
  std::string prefix = "blacklist " + file.string() + ": ";
  EXPECT_NE(err.find(prefix + "line 2: "), std::string::npos) << err;
  EXPECT_NE(err.find(prefix + "line 3: "), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;

  // Not reported again while the file is unchanged (even while it is read
  // again because it changed moments ago).
  ::testing::internal::CaptureStderr();
  listed(list, "192.0.2.1");
  listed(list, "192.0.2.1");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  fs::remove_all(dir);
}

TEST(Blacklist, ConcurrentCallersAgree) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "blacklist.txt";
  write_text(file, "192.0.2.0/24\n");
  Blacklist list(file);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (list.check("192.0.2.77").code() != Errc::forbidden || !list.check("198.51.100.1")) ++wrong;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chaton
