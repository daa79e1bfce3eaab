// The comet packet (docs/PROTOCOL.md, "The comet long-poll") that carries a Delta to one
// reader: its header filled from the room (nc, version), the delta (pos,
// refresh) and the reader's cid, around the delta's shared content. Every
// room reader (long-poll, SSE, WebSocket) makes its packets here.
//
// Thread-safety: as Room's reads (any thread).
#pragma once

#include <string>
#include <string_view>

#include "render/packet.h"
#include "rooms/room.h"

namespace chaton::live {

struct DeltaPacket {
  PacketHeader header;  // what the packet says (header.ver points into the room's settings)
  std::string bytes;
};

DeltaPacket make_delta_packet(const Room& room, const Delta& d, Cid cid, PacketFormat format);

// The same packet in three parts, for a reply that writes the delta's shared
// content from where it is: head + *d.content + tail == make_delta_packet().bytes.
struct DeltaEnvelope {
  std::string head;
  std::string_view tail;  // static storage
};
DeltaEnvelope make_delta_envelope(const Room& room, const Delta& d, Cid cid, PacketFormat format);

// The answer to a cid the room does not know (and will not replace): an
// empty packet with the expired cid.
std::string expired_packet(const Room& room, PacketFormat format);

}  // namespace chaton::live
