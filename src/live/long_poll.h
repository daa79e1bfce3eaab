// LongPoll: a comet request (docs/PROTOCOL.md, "The comet long-poll") as a
// client in a blocked state.
//
// It ends exactly once, by whichever comes first:
//   - news: posts after its pos, a view to refresh, or a new cid to tell
//     (at once, or when the room wakes it);
//   - a timeout: at each soft timeout (random in [soft_min, soft_max]) it
//     pings if the chatters count changed since it began, and at the hard
//     timeout (random in [hard_min, hard_max]) it pings anyway;
//   - expired: an unknown cid without loose login gets the expired packet;
//   - a duplicate: a newer request of its cid dropped it (the room wakes it
//     and it finds its cid gone): the connection closes without a reply;
//   - a disconnect: the client went away, nothing is sent;
//   - the server is stopping (Room::stop_readers): an empty reply, like a
//     ping, so the client asks again (docs/PROTOCOL.md, "When the server
//     stops"); a request that comes then is answered so at once.
// Each event (a wake-up, the timer, the disconnect) enters through one
// function that ignores it once the request has ended, and each ending goes
// through one function, finish(), which ends it once — the timer
// cancelled, the room's wait removed — and then does what that ending
// does. Everything runs on the session's strand. The room holds it
// weakly; the session's pending operations and the timer keep it alive.
//
// start_long_poll() runs on the exchange's strand (where the handler was
// called). Time (the timeouts, their random draws) comes from the
// TimeSource, which must outlive the request.
#pragma once

#include <memory>
#include <optional>

#include "config/config.h"
#include "http/exchange.h"
#include "rooms/room.h"
#include "util/time_source.h"

namespace chaton::live {

struct CometRequest {
  std::optional<Cid> cid;
  uint64_t pos = 0;
  PacketFormat format = PacketFormat::web;
};

void start_long_poll(std::shared_ptr<Room> room, const http::ExchangePtr& ex, const CometRequest& req,
                     const CometConfig& timing, TimeSource& time);

}  // namespace chaton::live
