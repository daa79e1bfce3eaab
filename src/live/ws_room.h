// A room over WebSocket: `ws?p=POS` (docs/PROTOCOL.md, "Push streams").
//
// Each text frame the server sends is a comet JSON packet (`comet?s=0`),
// from the same fan-out as every other transport. A client may post by
// sending {"nick":"…","text":"…"}: the same validation as POST applies, and
// the answer comes back on the socket as {"posted":{pos,id,permalink}} or
// {"error":{"status":N,"message":"…"}}. A malformed frame gets an error
// answer and the connection stays open. The TimeSource (the feed's soft
// timeouts) must outlive the peer.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "http/ws_channel.h"
#include "rooms/room.h"
#include "util/time_source.h"

namespace chaton::live {

std::shared_ptr<http::WsPeer> make_ws_room_peer(std::shared_ptr<Room> room, uint64_t pos,
                                                std::string client_address, const CometConfig& timing,
                                                TimeSource& time);

}  // namespace chaton::live
