// page_end(): where a page of posts ends, for every place that cuts a run of
// posts into bounded pieces (a packet of a live catch-up, see room.h
// kMaxPacketPosts; a page of a day's archive, see archive_pages.h).
//
// A page starting at posts[begin] holds at most `max_posts` posts, and
// ends after the post that brings the nick and text bytes it holds to
// `max_bytes` or over; so it always holds at least one post when one is
// left, however long that post.
//
// A pure function of its arguments; `Posts` is any random-access range of
// Post (std::vector, std::deque).
#pragma once

#include <cstddef>

#include "messages/post.h"

namespace chaton {

// The index one past the last post of the page that starts at `begin`
// (posts.size() at most; `begin` itself when begin >= posts.size()).
template <typename Posts>
size_t page_end(const Posts& posts, size_t begin, size_t max_posts, size_t max_bytes) {
  size_t end = begin;
  size_t bytes = 0;
  while (end < posts.size() && end - begin < max_posts && bytes < max_bytes) {
    bytes += posts[end].nick.size() + posts[end].text.size();
    ++end;
  }
  return end;
}

}  // namespace chaton
