// read_file (util/file.h): the one way a file is read, and its errors.
#include "util/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "support/temp_dir.h"

namespace chaton {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& content) { std::ofstream(p, std::ios::binary) << content; }

TEST(ReadFile, ReadsTheWholeFile) {
  testing::TempDir dir;
  std::string big(200000, 'x');  // more than one read
  big[123456] = '\0';
  write(dir.path() / "f", big);
  auto r = read_file(dir.path() / "f");
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(*r, big);

  write(dir.path() / "empty", "");
  auto e = read_file(dir.path() / "empty");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, "");
}

TEST(ReadFile, AMissingFileIsNotFound) {
  testing::TempDir dir;
  auto r = read_file(dir.path() / "nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::not_found);
  EXPECT_EQ(r.status().message(),
            "cannot open " + (dir.path() / "nope").string() + ": No such file or directory");

  fs::create_symlink(dir.path() / "nowhere", dir.path() / "dangling");
  EXPECT_EQ(read_file(dir.path() / "dangling").status().code(), Errc::not_found);
}

TEST(ReadFile, OtherFailuresAreIo) {
  testing::TempDir dir;
  auto r = read_file(dir.path());  // a directory opens, then cannot be read
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Errc::io);
  EXPECT_EQ(r.status().message(), "cannot read " + dir.path().string() + ": Is a directory");

  write(dir.path() / "file", "x");
  auto under = read_file(dir.path() / "file" / "below");  // ENOTDIR
  ASSERT_FALSE(under);
  EXPECT_EQ(under.status().code(), Errc::io);
}

TEST(ReadFile, OverTheLimitIsTooLarge) {
  testing::TempDir dir;
  write(dir.path() / "f", "0123456789");
  auto at = read_file(dir.path() / "f", {.max_bytes = 10});
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, "0123456789");
  auto over = read_file(dir.path() / "f", {.max_bytes = 9});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.status().code(), Errc::too_large);
  EXPECT_EQ(over.status().message(), (dir.path() / "f").string() + ": larger than 9 bytes");
}

// With no_wait a FIFO in the file's place reads as empty at once instead of
// waiting for a writer.
TEST(ReadFile, NoWaitNeverWaitsOnAFifo) {
  testing::TempDir dir;
  fs::path fifo = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = read_file(fifo, {.no_wait = true});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(*r, "");
}

}  // namespace
}  // namespace chaton
