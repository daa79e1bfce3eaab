// LogFile: each line is stamped with the second it was written in (the
// stamp follows the clock from one line to the next), and a line given in
// parts is those parts joined.
#include "util/log_file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "support/temp_dir.h"

namespace chaton {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LogFile, StampsEachLineWithItsSecondAndJoinsParts) {
  testing::TempDir dir;
  ManualClock clock(SysTime{std::chrono::seconds(1732460000)});  // 2024/11/24 14:53:20 UTC
  LogFile log(dir.path() / "logs" / "comet.log", clock);
  log.write("first");
  clock.advance(std::chrono::milliseconds(400));
  log.write({"192.0.2.1", " \"", "GET", " ", "/lobby/comet", "\" ", "200", " ", "17"});
  clock.advance(std::chrono::milliseconds(700));
  log.write({});
  log.flush();
  EXPECT_EQ(read_all(dir.path() / "logs" / "comet.log"),
            "2024/11/24 14:53:20 UTC first\n"
            "2024/11/24 14:53:20 UTC 192.0.2.1 \"GET /lobby/comet\" 200 17\n"
            "2024/11/24 14:53:21 UTC \n");
}

// logrotate renames the file and then asks the server to reopen its logs
// (SIGUSR1): what was written before goes to the renamed file, the next
// lines to a new file at the same path.
TEST(LogFile, ReopenSendsTheNextLinesToANewFileAtThePath) {
  testing::TempDir dir;
  ManualClock clock(SysTime{std::chrono::seconds(1732460000)});
  const auto path = dir.path() / "logs" / "comet.log";
  LogFile log(path, clock);
  log.write("before");
  log.flush();
  std::filesystem::rename(path, dir.path() / "logs" / "comet.log.1");
  log.write("buffered");  // written before the reopen: still the old file's
  log.reopen();
  log.write("after");
  log.flush();
  EXPECT_EQ(read_all(dir.path() / "logs" / "comet.log.1"),
            "2024/11/24 14:53:20 UTC before\n"
            "2024/11/24 14:53:20 UTC buffered\n");
  EXPECT_EQ(read_all(path), "2024/11/24 14:53:20 UTC after\n");
}

// A log sent to a descriptor the server does not own (standard error, for
// journald): each line after its label; a reopen leaves the descriptor.
TEST(LogFile, ToADescriptorEachLineCarriesItsLabelAndReopenKeepsIt) {
  testing::TempDir dir;
  ManualClock clock(SysTime{std::chrono::seconds(1732460000)});
  const auto path = dir.path() / "stderr.txt";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  {
    LogFile log(fd, "access lobby: ", clock);
    log.write({"192.0.2.1", " \"GET /lobby/\" ", "200", " ", "17"});
    log.flush();
    log.reopen();
    log.write("second");
  }  // flushed, and the descriptor left open
  EXPECT_EQ(::write(fd, "still open\n", 11), 11);
  ::close(fd);
  EXPECT_EQ(read_all(path),
            "2024/11/24 14:53:20 UTC access lobby: 192.0.2.1 \"GET /lobby/\" 200 17\n"
            "2024/11/24 14:53:20 UTC access lobby: second\n"
            "still open\n");
}

}  // namespace
}  // namespace chaton
