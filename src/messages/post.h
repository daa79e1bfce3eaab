// Post: one message in a room, as stored in a line of the room log.
//
// A plain value. `seq` is the post's place in the room's stream (1 for the
// first post the room ever had); it is not written in the line but derived
// from the room's `sequence` file, and it is what clients see as `pos`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace chaton {

struct Post {
  std::string nick;
  int64_t sec = 0;   // seconds since the epoch (UTC)
  int64_t usec = 0;  // 0..999999
  std::string text;
  std::optional<std::string> ip;  // missing in old lines
  uint64_t seq = 0;

  friend bool operator==(const Post&, const Post&) = default;
};

}  // namespace chaton
