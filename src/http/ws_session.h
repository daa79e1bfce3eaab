// WebSocket sessions: an accepted upgrade, as a WsChannel for its WsPeer.
//
// The session answers the upgrade (http/ws_handshake.h), then speaks the
// protocol over the connection itself (frames: http/ws_frame.h). It reads
// a small piece at a time, so a reader waiting for a message holds no read
// buffer, and hands each text message to the peer. It writes queued frames
// one at a time through its WriteQueue (http/write_queue.h), each a head
// made here before the shared payload (never copied per reader), bounded by
// kMaxStreamQueueBytes: a reader that falls behind, or whose address holds
// more than its budget of unsent bytes, is closed with 1013. A connection
// that stays silent is pinged, and closed when the ping gets no answer.
//
// Thread-safety: the session runs on the executor of the stream it is given
// (one event loop's thread); its WsChannel members may be called from any
// thread (see ws_channel.h).
// Lifetime: the session keeps itself alive through its pending operations
// and holds its peer and its connection's ticket; the SessionLimits are
// read only while it starts, except the TimeSource (SessionLimits::time),
// which must outlive it.
#pragma once

#include <memory>

#include <boost/beast/core/flat_buffer.hpp>

#include "http/session.h"
#include "http/ws_channel.h"

namespace chaton::http {

// Completes the upgrade of `stream` (whose request is `req`) and runs the
// session. Instantiated for plain and TLS streams in ws_session.cpp.
// `ticket` is held for the session's life (its connection's place under
// the caps); each queued frame is charged to the address through it.
template <class Stream>
void start_websocket(Stream&& stream, boost::beast::flat_buffer&& buffer, Request req,
                     std::shared_ptr<WsPeer> peer, const SessionLimits& limits,
                     std::shared_ptr<ConnectionLimiter::Ticket> ticket);

}  // namespace chaton::http
