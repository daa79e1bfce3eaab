// WebSocket plumbing shared by the transport and the endpoints.
//
// WsChannel is an accepted WebSocket connection as the application sees it:
// send text frames through a bounded queue, close with a code. WsPeer is the
// application's side of one connection: it is told when it opens, gets each
// text message, and hears when the connection ends. The Session turns an
// upgrade request into a WsChannel only when the Handler accepts it.
//
// Thread-safety: WsChannel members from any thread. WsPeer callbacks run on
// the channel's strand. Lifetime: the channel holds its peer; the peer holds
// the channel weakly or through the shared_ptr it is given.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "http/connection.h"

namespace chaton::http {

// Close codes (RFC 6455 section 7.4).
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseGoingAway = 1001;
inline constexpr uint16_t kWsClosePolicy = 1008;
inline constexpr uint16_t kWsCloseTooBig = 1009;
inline constexpr uint16_t kWsCloseServiceRestart = 1012;  // the server is stopping: come back soon
inline constexpr uint16_t kWsCloseTryAgainLater = 1013;   // a reader that fell behind
inline constexpr const char* kWsTooSlowReason = "reader too slow";
inline constexpr const char* kWsRestartReason = "server restarting";

class WsChannel {
 public:
  virtual ~WsChannel() = default;
  virtual boost::asio::any_io_executor executor() = 0;
  // Queues a text frame (its head, shared payload and tail are one message,
  // see StreamBytes); false once the channel is closed or was dropped
  // because its queue passed kMaxStreamQueueBytes (closed with 1013).
  // `written` runs on the channel's strand once the frame is written; a
  // `catch_up` frame is not counted (see StreamChunk).
  virtual bool send(StreamBytes text, Callback written = {}, bool catch_up = false) = 0;
  virtual void close(uint16_t code, std::string reason) = 0;
};

class WsPeer {
 public:
  virtual ~WsPeer() = default;
  virtual void on_open(std::shared_ptr<WsChannel> channel) = 0;
  virtual void on_message(std::string_view text) = 0;
  virtual void on_close() = 0;
};

// What the Handler says to an upgrade request: a peer to talk to, or the
// HTTP response refusing it.
struct UpgradeDecision {
  std::shared_ptr<WsPeer> peer;
  std::optional<Response> refusal;
};

}  // namespace chaton::http
