// Connection: what an Exchange needs from the connection it came on,
// whatever the transport under it (plain TCP or TLS).
//
// Thread-safety: every member is called on the connection's strand
// (Exchange hops there), except executor() and push(), which may be called
// from any thread.
// Besides a plain response, a connection can carry a *stream*: a response
// header followed by body bytes pushed as they come (Server-Sent Events),
// through the bounded WriteQueue (http/write_queue.h), which says how a
// reader that falls behind, or whose address is over its byte budget, is
// cut.
//
// Lifetime: a Connection keeps itself alive through its pending operations;
// an Exchange holds it with a shared_ptr.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http.hpp>

#include "http/write_queue.h"
#include "util/block_cache.h"
#include "util/callback.h"

namespace chaton::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
// A request's header fields and target are kept in blocks of the loop's
// block cache (util/block_cache.h): a long poll's are let go of and made
// again by thousands of readers in a row.
using RequestFields = bhttp::basic_fields<CachedAllocator<char>>;
using Request = bhttp::request<bhttp::string_body, RequestFields>;
using Response = bhttp::response<bhttp::string_body>;
struct PreparedResponse;

class Connection {
 public:
  virtual ~Connection() = default;
  virtual boost::asio::any_io_executor executor() = 0;

  // `head_only`: the answer to HEAD — the headers of `res`, no body.
  virtual void send(Response res, bool keep_alive, unsigned version, bool head_only) = 0;
  // The same for a response prepared in pieces (http/prepared_response.h):
  // its bytes go out as they are, in one gather write.
  virtual void send(PreparedResponse res, bool keep_alive, unsigned version, bool head_only) = 0;
  virtual void close() = 0;
  // `on_gone` runs if the peer closes before the response is complete and
  // the request has waited long enough to be watched (kDisconnectWatchDelay,
  // http/session.h): a client gone before then is not reported.
  virtual void watch_disconnect(Callback on_gone) = 0;

  // Streams: the header (no Content-Length; the body ends with the
  // connection), then bytes. push() returns false once the stream is over
  // (peer gone, or dropped for falling behind).
  virtual void start_stream(Response header, unsigned version) = 0;
  virtual bool push(StreamChunk chunk) = 0;
};

}  // namespace chaton::http
