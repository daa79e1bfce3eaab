// The comet packet (docs/PROTOCOL.md, "The comet long-poll") that carries a Delta to one
// reader: its header filled from the room (nc, version), the delta (pos,
// refresh) and the reader's cid, around the delta's shared content. Every
// room reader (long-poll, SSE, WebSocket) makes its packets here: whole
// (make_delta_packet, the pieces joined), or as pieces for a gathered write
// (make_delta_pieces: the reader's envelope around the shared content,
// which is not copied).
//
// Thread-safety: as Room's reads (any thread).
#pragma once

#include <string>
#include <string_view>

#include "http/write_queue.h"
#include "render/packet.h"
#include "rooms/room.h"

namespace chaton::live {

struct DeltaPacket {
  PacketHeader header;  // what the packet says (header.ver points into the room's settings)
  std::string bytes;
};

DeltaPacket make_delta_packet(const Room& room, const Delta& d, Cid cid, PacketFormat format);

// The same packet as pieces: `bytes.head` the envelope before the content,
// `bytes.shared` the delta's content itself, `bytes.tail` the envelope
// after it (bytes.joined() == make_delta_packet(...).bytes). The head has
// kPieceHeadroom bytes of spare capacity, for a transport's own framing.
struct DeltaPieces {
  PacketHeader header;
  http::StreamBytes bytes;
};
inline constexpr size_t kPieceHeadroom = 32;

DeltaPieces make_delta_pieces(const Room& room, const Delta& d, Cid cid, PacketFormat format);

// The answer to a cid the room does not know (and will not replace): an
// empty packet with the expired cid.
std::string expired_packet(const Room& room, PacketFormat format);

}  // namespace chaton::live
