// The diagnostics logger (util/log.h): one whole line per message.
#include "util/log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chaton {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

TEST(Log, ALineHasTheTimeTheLevelAndTheMessage) {
  system_clock::time_point t{seconds{1732450000} + milliseconds{42}};
  EXPECT_EQ(format_log_line(LogLevel::warning, t, "room x: cannot reload"),
            "2024-11-24T12:06:40.042Z chaton: warning: room x: cannot reload\n");
  EXPECT_EQ(format_log_line(LogLevel::error, t, "cannot store posts"),
            "2024-11-24T12:06:40.042Z chaton: error: cannot store posts\n");
}

TEST(Log, AMessageNeverMakesASecondLine) {
  system_clock::time_point t{seconds{0}};
  EXPECT_EQ(format_log_line(LogLevel::info, t, "a\nb\r\tc"),
            "1970-01-01T00:00:00.000Z chaton: info: a b  c\n");
}

// Restores stderr and the default level after a test.
struct Captured {
  std::mutex mu;
  std::vector<std::string> lines;
  Captured() {
    set_log_sink([this](std::string_view line) {
      std::lock_guard lock(mu);
      lines.emplace_back(line);
    });
  }
  ~Captured() {
    set_log_sink({});
    set_log_level(LogLevel::info);
  }
};

TEST(Log, LevelsBelowTheMinimumAreDropped) {
  Captured out;
  log_debug("not by default");
  log_info("info");
  set_log_level(LogLevel::warning);
  log_info("dropped");
  log_warning("warning");
  log_error("error");
  ASSERT_EQ(out.lines.size(), 3u);
  EXPECT_NE(out.lines[0].find("chaton: info: info\n"), std::string::npos) << out.lines[0];
  EXPECT_NE(out.lines[1].find("chaton: warning: warning\n"), std::string::npos) << out.lines[1];
  EXPECT_NE(out.lines[2].find("chaton: error: error\n"), std::string::npos) << out.lines[2];
}

TEST(Log, GoesToStandardErrorByDefault) {
  ::testing::internal::CaptureStderr();
  log_warning("to stderr");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(" chaton: warning: to stderr\n"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST(Log, ThreadsNeverInterleaveLines) {
  ::testing::internal::CaptureStderr();
  constexpr int kThreads = 4, kEach = 200;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([i] {
      std::string text(300, static_cast<char>('a' + i));
      for (int n = 0; n < kEach; ++n) log_info(text);
    });
  for (auto& t : threads) t.join();
  std::string err = ::testing::internal::GetCapturedStderr();
  size_t lines = 0;
  for (size_t at = 0; at < err.size(); ++lines) {
    size_t end = err.find('\n', at);
    ASSERT_NE(end, std::string::npos);
    std::string_view line(err.data() + at, end - at);
    std::string_view text = line.substr(line.rfind(' ') + 1);
    ASSERT_EQ(text.size(), 300u) << line;
    EXPECT_EQ(text.find_first_not_of(text[0]), std::string_view::npos) << line;
    at = end + 1;
  }
  EXPECT_EQ(lines, size_t{kThreads * kEach});
}

}  // namespace
}  // namespace chaton
