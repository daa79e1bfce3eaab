// LogFile: each line is stamped with the second it was written in (the
// stamp follows the clock from one line to the next), and a line given in
// parts is those parts joined.
#include "util/log_file.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace chaton
