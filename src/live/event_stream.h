// Server-Sent Events: `events?p=POS` (docs/PROTOCOL.md, "Push streams").
//
// One event per comet packet — JSON (`s=0`, the default) or, with `s=web`,
// the web format the browser's page renders — its `id:` the packet's pos, so a
// reconnecting EventSource resumes from `Last-Event-ID` with no gap and no
// repeat (Last-Event-ID wins over `p`). A comment line at every soft timeout
// keeps proxies from closing an idle stream (its time from the TimeSource,
// which must outlive the stream); `X-Accel-Buffering: no` asks
// nginx-style proxies not to buffer it. The feed keeps the stream
// (http::ResponseStream), not the request's Exchange.
#pragma once

#include <memory>

#include "config/config.h"
#include "http/exchange.h"
#include "rooms/room.h"
#include "util/time_source.h"

namespace chaton::live {

// The reconnect delay a stream gets when the server stops (docs/PROTOCOL.md,
// "When the server stops"): short, since the server is restarting.
inline constexpr int kStoppingRetryMillis = 1000;

void start_event_stream(std::shared_ptr<Room> room, const http::ExchangePtr& ex, uint64_t pos,
                        PacketFormat format, const CometConfig& timing, TimeSource& time);

}  // namespace chaton::live
