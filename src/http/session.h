// Sessions: serving one accepted connection.
//
// A session reads a request, hands it to the Handler as an Exchange, and
// reads the next only after the response is written (HTTP/1.0 and 1.1,
// keep-alive). It reads with one receive at a time into its buffer, whose
// bytes go to Beast's parser. When a request waits for its answer on a
// plain connection, that receive stays out as the watch that tells a
// blocked handler its client went away; what it brings instead is the next
// request, parsed once the response is written (a response written inside
// a fan-out stops it, so that the next request is read after the fan-out).
// On TLS, on a stream, and behind bytes of a next request not yet parsed,
// the watch is a receive that peeks instead (the bytes stay in the socket).
// A request's watch starts kDisconnectWatchDelay after it began to wait,
// not at once: in a busy room a long poll is answered sooner than that,
// inside a fan-out, where a watch would only be stopped again (a started
// receive first tries the socket, a system call that finds nothing while
// the client waits, and its cancellation completes as well); its next
// request is then read by the one receive that follows the fan-out.
// A request left waiting holds no write memory and no parser. What only a
// stream needs (its write queue, the stall timer of its writes) is made
// when the stream starts; a stream that waits between writes holds no
// write memory.
// A response is written from a Response, or from a PreparedResponse
// (http/prepared_response.h) in one gather write; on a plain socket that
// write is tried at once, and a reply the socket takes whole completes
// there, with no operation queued. A WebSocket upgrade request goes to
// Handler::upgrade(); when it is accepted the session hands its stream to
// a WebSocket session and ends.
//
// The same code serves plain TCP and TLS (the stream type is a template
// parameter inside session.cpp). Each session runs on its socket's
// executor — its event loop's (http/loop_pool.h), run by one thread, or a
// strand — which never runs two of its handlers at once, and keeps itself
// alive with shared_from_this through its pending operations.
//
// The header is read before the body: a request without a Host (HTTP/1.1)
// or with two, or whose Transfer-Encoding this server cannot read
// unambiguously, is answered 400 (501 for an unknown transfer coding) and
// the connection closed, before any of its body is read.
//
// A connection over the caps of SessionLimits::connections is answered 503
// (server full) or 429 (too many from one address) and closed.
// Each response body, and each chunk queued on a stream, is charged to the
// connection's address through its ticket while it is unsent; a response
// the address has no room for is replaced by a 429 and the connection
// closed, and a stream is cut as if its reader had fallen behind.
//
// A session joins SessionLimits::drain: once the server drains, it reads no
// further request; an idle one closes at once, a busy one after its
// response, sent with `Connection: close` (http/drain.h).
//
// Lifetime: the Handler and the SessionLimits (and its TimeSource) must
// outlive every session while it runs; the Drain and the ConnectionLimiter
// until it is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "access/blacklist.h"
#include "access/connection_limiter.h"
#include "http/drain.h"
#include "http/exchange.h"
#include "util/time_source.h"

namespace chaton::http {

// How long a request that waits for its answer goes unwatched: a client
// that goes away meanwhile is seen gone when this has passed, or not at
// all if its request is answered first (the reply is written to a closed
// connection, as one to a client that left while it was written).
inline constexpr std::chrono::milliseconds kDisconnectWatchDelay{1000};

struct SessionLimits {
  uint64_t max_body_bytes = 65536;
  uint32_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds idle_timeout{30000};   // to send a whole request; to write a response
  std::chrono::seconds handshake_timeout{15};      // TLS handshake (at most idle_timeout)
  const AddressRanges* trusted_proxies = nullptr;  // whose X-Forwarded-For is believed
  ConnectionLimiter* connections = nullptr;        // open-connection caps
  Drain* drain = nullptr;                          // the server's open sessions (http/drain.h), if it drains
  // Where the stall check of a stream's writes gets its timer and the time
  // (null: RealTimeSource::instance()); on an event loop's executor that
  // timer is a node of the loop's one timer list (util/deadline_list.h).
  TimeSource* time = nullptr;
};

// Serves `socket`: plain HTTP, or HTTPS when `tls` is not null.
void start_session(boost::asio::ip::tcp::socket&& socket, Handler& handler, const SessionLimits& limits,
                   std::shared_ptr<boost::asio::ssl::context> tls);

std::string client_address_of(const boost::asio::ip::tcp::socket& socket);

}  // namespace chaton::http
