// make_post: a Post built from its fields, for tests. The address defaults
// to kTestIp; pass std::nullopt for a post without one (old lines).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "messages/post.h"

namespace chaton::testing {

inline constexpr const char* kTestIp = "127.0.0.1";

inline Post make_post(std::string nick, int64_t sec, int64_t usec, std::string text,
                      std::optional<std::string> ip = std::string(kTestIp), uint64_t seq = 0) {
  Post p;
  p.nick = std::move(nick);
  p.sec = sec;
  p.usec = usec;
  p.text = std::move(text);
  p.ip = std::move(ip);
  p.seq = seq;
  return p;
}

}  // namespace chaton::testing
