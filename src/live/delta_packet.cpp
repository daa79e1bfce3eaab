// DeltaPacket: see delta_packet.h.
#include "live/delta_packet.h"

namespace chaton::live {

namespace {

PacketHeader header_for(const Room& room, uint64_t pos, Cid cid, bool refresh) {
  PacketHeader h;
  h.pos = pos;
  h.nc = room.num_chatters();
  h.ver = room.settings().version;
  h.cid = cid;
  h.refresh = refresh;
  return h;
}

}  // namespace

DeltaPieces make_delta_pieces(const Room& room, const Delta& d, Cid cid, PacketFormat format) {
  DeltaPieces p;
  p.header = header_for(room, d.pos, cid, d.refresh);
  p.bytes.head.reserve(96 + p.header.ver.size() + kPieceHeadroom);
  append_packet_head(p.bytes.head, format, p.header);
  p.bytes.shared = d.content;
  p.bytes.tail = packet_tail(format, p.header);
  return p;
}

DeltaPacket make_delta_packet(const Room& room, const Delta& d, Cid cid, PacketFormat format) {
  DeltaPieces p = make_delta_pieces(room, d, cid, format);
  return DeltaPacket{std::move(p.header), p.bytes.joined()};
}

std::string expired_packet(const Room& room, PacketFormat format) {
  return wrap_packet(format, header_for(room, 0, kExpiredCid, false), empty_content(format));
}

}  // namespace chaton::live
