// HttpConn: one keep-alive HTTP/1.1 connection to the server used from
// coroutines on the orchestration thread: status polls and posts.
// Thread-safety: one coroutine at a time, on one executor.
// Lifetime: the executor must outlive it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common.h"
#include "options.h"

namespace chaton::bench {

class HttpConn {
 public:
  HttpConn(net::any_io_executor ex, tcp::endpoint server, std::string host)
      : sock_(ex), server_(server), host_(std::move(host)) {}

  // Sends one request and reads its response; reconnects first if needed.
  // A GET is retried once on a fresh connection; a POST is not (it might
  // have been stored).
  net::awaitable<Response> request(std::string_view method, const std::string& target,
                                   std::string_view body = {});

  void close();

 private:
  tcp::socket sock_;
  tcp::endpoint server_;
  std::string host_;
  beast::flat_buffer buf_;
};

struct RoomStatus {
  int64_t num_chatters = -1;
  int64_t sequence = -1;
  // The readers the server holds now (Chaton: the chaton_readers gauges of
  // /metrics, every transport; Nchan: its subscribers). num-chatters counts
  // at most a few cids per source address (docs/PROTOCOL.md), so it cannot
  // tell that thousands of readers from one address are all in.
  int64_t readers = -1;
};

// num-chatters and post-sequence from var/status.js and the readers from
// /metrics; for Nchan, the channel's subscribers (0 before the channel
// exists) as both counts, no sequence.
net::awaitable<RoomStatus> room_status(HttpConn& c, Peer peer = Peer::chaton);
// Posts one message; returns the HTTP status (200 = stored and synced; for
// Nchan, 200 = the message was queued, which it answers 201 or 202).
net::awaitable<unsigned> post_message(HttpConn& c, const std::string& text, Peer peer = Peer::chaton);

}  // namespace chaton::bench
