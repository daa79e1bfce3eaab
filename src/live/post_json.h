// Reading a post a client sends as JSON over WebSocket: {"nick":"…","text":"…"}.
//
// The parse alone, without sockets, so it can be tested and fuzzed on its
// own. Other members of the object are ignored; the nick and text must both
// be JSON strings. Pure function, thread-safe; it does not throw.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace chaton::live {

struct PostFields {
  std::string nick;
  std::string text;
};

// The nick and text of a post message; Errc::invalid with a one-line reason
// for anything else (not JSON, not an object, a member missing or not a string).
Result<PostFields> parse_post_json(std::string_view message);

}  // namespace chaton::live
