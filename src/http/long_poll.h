// LongPoll: a comet request (docs/PROTOCOL.md, "The comet long-poll") as a
// client in a blocked state.
//
// It ends exactly once, by whichever comes first:
//   - news: the room wakes it (a post, or its cid dropped as a duplicate);
//   - its timer: at each soft timeout (random in [soft_min, soft_max]) it
//     pings if the chatters count changed since it began, and at the hard
//     timeout (random in [hard_min, hard_max]) it pings anyway;
//   - a disconnect: the client went away, nothing is sent.
// Every transition runs on the session's strand, and `done_` makes the
// first one final. The room holds it weakly; the session's pending
// operations and the timer keep it alive.
#pragma once

#include <memory>
#include <optional>

#include "config/config.h"
#include "http/exchange.h"
#include "rooms/room.h"

namespace chaton::http {

struct CometRequest {
  std::optional<Cid> cid;
  uint64_t pos = 0;
  PacketFormat format = PacketFormat::web;
};

void start_long_poll(std::shared_ptr<Room> room, const ExchangePtr& ex, const CometRequest& req,
                     const CometConfig& timing);

}  // namespace chaton::http
