// The URL names of a room that come from the original Chaton.
#include "endpoints/room_endpoints.h"

#include <gtest/gtest.h>

namespace chaton::endpoints {
namespace {

TEST(OriginalPosterName, LowerCasedWordCharactersAndHyphens) {
  EXPECT_EQ(original_poster_name("Gauche"), "chaton-poster-gauche");
  EXPECT_EQ(original_poster_name("Common Lisp JP"), "chaton-poster-commonlispjp");
  EXPECT_EQ(original_poster_name("a_b-c.d (e)!"), "chaton-poster-a_b-cde");
  EXPECT_EQ(original_poster_name("Gauche \xE6\x97\xA5\xE6\x9C\xAC"), "chaton-poster-gauche");
}

}  // namespace
}  // namespace chaton::endpoints
