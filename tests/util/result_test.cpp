// Status and Result<T> (util/result.h): value() is checked.
#include "util/result.h"

#include <gtest/gtest.h>

#include <string>

namespace chaton {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Status(Errc::invalid, std::string("not a digit: ") + c);
  return c - '0';
}

TEST(Result, HoldsAValueOrAnError) {
  auto good = parse_digit('7');
  ASSERT_TRUE(good);
  EXPECT_EQ(good.value(), 7);
  EXPECT_EQ(*good, 7);
  auto bad = parse_digit('x');
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.status().code(), Errc::invalid);
  EXPECT_EQ(bad.status().message(), "not a digit: x");
}

// Asking an error for its value is a broken invariant: the process says so
// and aborts, instead of reading a value that is not there.
TEST(ResultDeathTest, ValueOfAnErrorAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)parse_digit('x').value(), "Result::value\\(\\) called on an error \\(not a digit: x\\)");
  EXPECT_DEATH((void)*parse_digit('y'), "not a digit: y");
  struct Pair {
    int first = 0;
  };
  Result<Pair> none(Errc::not_found, "no pair");
  EXPECT_DEATH((void)none->first, "no pair");
  const Result<Pair>& same = none;
  EXPECT_DEATH((void)same.value().first, "no pair");
}

TEST(Status, IgnoreSaysSoOnPurpose) {
  Status failed(Errc::io, "disk");
  failed.ignore();  // compiles without a discarded-value warning
  parse_digit('x').ignore();
  EXPECT_EQ(failed.code(), Errc::io);
}

}  // namespace
}  // namespace chaton
