// Connection: what an Exchange needs from the connection it came on,
// whatever the transport under it (plain TCP or TLS).
//
// Every member is called on the connection's strand (Exchange hops there).
// Besides a plain response, a connection can carry a *stream*: a response
// header followed by body bytes pushed as they come (Server-Sent Events),
// through a bounded write queue. A reader whose queue grows past
// kMaxStreamQueueBytes cannot keep up and is dropped, so its memory never
// grows without bound. A chunk marked `catch_up` (a piece of the backlog a
// reader asked for, sent one piece at a time) is not counted: catching up
// is not falling behind. Every queued chunk, catch-up included, is also
// charged to the connection's address (ConnectionLimiter's byte budget);
// a reader whose address is over its budget is cut like one that fell
// behind.
//
// Lifetime: a Connection keeps itself alive through its pending operations;
// an Exchange holds it with a shared_ptr.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http.hpp>

#include "access/connection_limiter.h"

namespace chaton::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

inline constexpr size_t kMaxStreamQueueBytes = 1 << 20;

// Bytes queued on a stream, and what to run on the stream's strand once they
// are written (may be empty): a reader that waits for it sends what came
// meanwhile as one packet instead of queueing one per post.
struct StreamChunk {
  std::shared_ptr<const std::string> bytes;
  std::function<void()> written;
  bool catch_up = false;  // not counted against kMaxStreamQueueBytes
  ConnectionLimiter::Charge charge;  // its bytes, charged to the address while queued
};

// Counts `chunk` into a stream queue: against kMaxStreamQueueBytes in
// `queued` (unless catch-up) and against the address's budget through
// `ticket` (the charge then travels with the chunk). False: the reader is
// to be cut, for falling behind or for its address being over budget.
inline bool count_chunk(StreamChunk& chunk, std::atomic<size_t>& queued,
                        const std::shared_ptr<ConnectionLimiter::Ticket>& ticket) {
  size_t counted = chunk.catch_up ? 0 : chunk.bytes->size();
  if (queued.fetch_add(counted) + counted > kMaxStreamQueueBytes) return false;
  auto charge = charge_bytes(ticket, chunk.bytes->size());
  if (!charge) return false;
  chunk.charge = std::move(*charge);
  return true;
}

// The inverse of count_chunk, once the chunk is written or dropped.
inline void uncount_chunk(StreamChunk& chunk, std::atomic<size_t>& queued) {
  if (!chunk.catch_up) queued.fetch_sub(chunk.bytes->size());
  chunk.charge.release();
}

class Connection {
 public:
  virtual ~Connection() = default;
  virtual boost::asio::any_io_executor executor() = 0;

  // `head_only`: the answer to HEAD — the headers of `res`, no body.
  virtual void send(Response res, bool keep_alive, unsigned version, bool head_only) = 0;
  virtual void close() = 0;
  // `on_gone` runs if the peer closes before the response is complete.
  virtual void watch_disconnect(std::function<void()> on_gone) = 0;

  // Streams: the header (no Content-Length; the body ends with the
  // connection), then bytes. push() returns false once the stream is over
  // (peer gone, or dropped for falling behind).
  virtual void start_stream(Response header, unsigned version) = 0;
  virtual bool push(StreamChunk chunk) = 0;
};

}  // namespace chaton::http
