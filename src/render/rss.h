// The room's RSS 2.0 feed (docs/PROTOCOL.md, "RSS"): one item per post it is
// given (a room gives the newest kMaxFeedItems of its live log), newest first,
// with the content:encoded module carrying the rendered HTML.
// Pure function, thread-safe.
#pragma once

#include <span>
#include <string>

#include "messages/post.h"
#include "render/html.h"

namespace chaton {

struct FeedInfo {
  std::string title;        // the room name
  std::string description;  // the room description (HTML; escaped into the feed)
};

// `posts` oldest first, as a room holds them; the feed lists them newest first.
std::string render_rss(const FeedInfo& info, std::span<const Post> posts, const RenderOptions& opts);

}  // namespace chaton
