// draft(): a post as a test hands it to a store, for the postgres tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "messages/post.h"

namespace chaton::postgres {

inline Post draft(std::string nick, std::string text, int64_t sec, int64_t usec = 0,
                  std::optional<std::string> ip = "192.0.2.1") {
  Post p;
  p.nick = std::move(nick);
  p.text = std::move(text);
  p.sec = sec;
  p.usec = usec;
  p.ip = std::move(ip);
  return p;
}

}  // namespace chaton::postgres
