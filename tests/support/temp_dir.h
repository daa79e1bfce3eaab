// TempDir: a fresh directory for one test, under $CHATON_TEST_TMP when set
// (CTest sets it to build/test-tmp), removed when the object goes away.
// Unique per test name, process and instance, so tests may run in parallel.
// The directory is made writable again before it is removed, for tests that
// take its write permission away.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace chaton::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "test-") {
    static std::atomic<int> counter{0};
    const char* base = std::getenv("CHATON_TEST_TMP");
    auto root = base && *base ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "-" + info->name() : "x";
    path_ = root / (prefix + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                                 ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace chaton::testing
