// Posting to a Room from a test: waits for the writer's answer, then for the
// room to have told its readers (Room::settle), so a test can look at both.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rooms/room.h"

namespace chaton::testing {

inline Result<Post> post_and_settle(Room& room, std::string_view nick, std::string_view text,
                                    std::string ip = "192.0.2.1",
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<Post>> result;
  room.post(nick, text, std::move(ip), [&](Result<Post> r) {
    std::lock_guard lock(mu);
    result.emplace(std::move(r));
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return result.has_value(); }))
      return Status(Errc::io, "test: timed out waiting for the post");
  }
  room.settle();
  return *result;
}

}  // namespace chaton::testing
