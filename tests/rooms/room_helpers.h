// What the room tests share: the settings of a test room, a waiter that
// counts its wake-ups, the texts
// of a JSON delta, and posting that waits for the writer's answer and then
// for the room to have told its readers (Room::settle), so a test can look
// at both.
#pragma once

#include <boost/json.hpp>

#include <atomic>
#include <vector>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rooms/room.h"

namespace chaton::testing {

// The settings of the room the live tests read: "lobby" at
// http://chat.example/lobby/, version "9.9-test".
inline RoomSettings lobby_settings(bool loose_login) {
  RoomSettings s;
  s.config.slug = "lobby";
  s.config.name = "Lobby";
  s.config.loose_login = loose_login;
  s.url = "http://chat.example/lobby/";
  s.render.room_url = s.url;
  s.version = "9.9-test";
  return s;
}

class CountingWaiter final : public Waiter {
 public:
  void wake() override { ++wakes; }
  void woken() override { ++wakes; }  // never called: it has no loop
  std::atomic<int> wakes{0};
};

// The texts of a JSON delta's content.
inline std::vector<std::string> texts(const Delta& d) {
  std::vector<std::string> out;
  const boost::json::value doc = boost::json::parse(*d.content);
  for (const boost::json::value& v : doc.as_array()) out.emplace_back(v.as_array().at(2).as_string());
  return out;
}

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
