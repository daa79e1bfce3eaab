// The store's file helpers (store/file_io.h) answer with a Status that
// names the path and the system's reason.
#include "store/file_io.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace chaton {
namespace {

namespace fs = std::filesystem;

TEST(FileIo, ReplaceFileWritesOrSaysWhyNot) {
  testing::TempDir dir;
  fs::path file = dir.path() / "sequence";
  ASSERT_TRUE(fileio::replace_file(file, "12", fileio::Sync::yes));
  auto content = read_file(file);
  ASSERT_TRUE(content);
  EXPECT_EQ(*content, "12");

  Status st = fileio::replace_file(dir.path() / "no-such-dir" / "sequence", "12");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), Errc::io);
  EXPECT_NE(st.message().find("cannot create " + (dir.path() / "no-such-dir").string()), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("No such file or directory"), std::string::npos) << st.message();
}

TEST(FileIo, SyncDirectorySaysWhyNot) {
  testing::TempDir dir;
  EXPECT_TRUE(fileio::sync_directory(dir.path()));
  Status st = fileio::sync_directory(dir.path() / "gone");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), Errc::io);
  EXPECT_EQ(st.message(), "cannot sync " + (dir.path() / "gone").string() + ": No such file or directory");
}

TEST(FileIo, MakeSymlinkAndCurrentBaseAnswerWithAStatus) {
  testing::TempDir dir;
  fs::path link = dir.path() / "2024" / "11" / "24.dat";
  ASSERT_TRUE(fileio::make_symlink(link, fileio::kCurrentLinkTarget));
  EXPECT_EQ(fileio::link_target(link), fileio::kCurrentLinkTarget);

  Status st = fileio::write_current_base(dir.path() / "current.base", dir.path() / "current.dat", 7);
  ASSERT_FALSE(st);  // no current.dat to name
  EXPECT_EQ(st.code(), Errc::io);
  EXPECT_NE(st.message().find("cannot stat " + (dir.path() / "current.dat").string()), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace chaton
