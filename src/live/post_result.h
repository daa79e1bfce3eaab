// The JSON that answers a post, over HTTP and over WebSocket alike.
#pragma once

#include <string>
#include <string_view>

#include "messages/post.h"
#include "util/result.h"

namespace chaton::live {

// {"pos":N,"id":"entry-…","permalink":"…"}
std::string posted_json(const Post& post, std::string_view room_url);
// {"error":{"status":413,"message":"…"}}
std::string error_json(unsigned status, std::string_view message);

}  // namespace chaton::live
