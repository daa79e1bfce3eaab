// Tests for page_end(): the one rule that cuts runs of posts into pages
// (live packets, archive day pages).
#include "messages/post_pages.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace chaton {
namespace {

Post post_of(size_t text_bytes) {
  Post p;
  p.nick = "ab";
  p.text = std::string(text_bytes, 'x');
  return p;
}

TEST(PageEnd, StopsAtTheMaximumNumberOfPosts) {
  std::vector<Post> posts(10, post_of(1));
  EXPECT_EQ(page_end(posts, 0, 4, 1000), 4u);
  EXPECT_EQ(page_end(posts, 4, 4, 1000), 8u);
  EXPECT_EQ(page_end(posts, 8, 4, 1000), 10u);
  EXPECT_EQ(page_end(posts, 10, 4, 1000), 10u);
}

TEST(PageEnd, EndsAfterThePostThatReachesTheByteLimit) {
  std::deque<Post> posts(5, post_of(8));       // 10 bytes each with the nick
  EXPECT_EQ(page_end(posts, 0, 100, 20), 2u);  // reaches 20 exactly
  EXPECT_EQ(page_end(posts, 0, 100, 21), 3u);  // passes it with the third
  EXPECT_EQ(page_end(posts, 3, 100, 21), 5u);
}

TEST(PageEnd, APostLongerThanThePageStillMakesAPage) {
  std::vector<Post> posts{post_of(100), post_of(1)};
  EXPECT_EQ(page_end(posts, 0, 100, 10), 1u);
  EXPECT_EQ(page_end(posts, 1, 100, 10), 2u);
}

}  // namespace
}  // namespace chaton
