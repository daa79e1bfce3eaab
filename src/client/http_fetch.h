// A small HTTP/1.1 client on Boost.Beast, shared by the client library and
// the outgoing webhooks: one request on its own connection, http:// or
// https:// (the peer verified against the system's CA store, or a given
// bundle, with SNI). Connecting, the TLS handshake, writing and reading
// share one deadline, the request's timeout (name resolution is bounded by
// the system resolver's own timeouts).
//
// fetch() is a coroutine for code that already runs an io_context (the
// comet loop, the webhook workers); fetch_blocking() runs it on a private
// io_context for a caller that simply waits (talk, apilogin).
//
// Errors are values: a network or TLS failure, a malformed URL or a reply
// too large is an Errc::io / Errc::invalid Status naming the URL; any HTTP
// status is a reply (the caller decides what a 404 means). Thread-safety:
// free functions; each call has its own state.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "util/result.h"

namespace chaton::client {

inline constexpr size_t kMaxReplyBytes = size_t{64} << 20;
inline constexpr std::chrono::milliseconds kDefaultHttpTimeout{30000};

struct HttpRequest {
  std::string method = "GET";  // GET or POST
  std::string url;             // absolute http:// or https:// URL
  std::string body;            // sent when not empty, or when method is POST
  std::string content_type = "application/x-www-form-urlencoded";
  std::chrono::milliseconds timeout = kDefaultHttpTimeout;  // the whole exchange
  std::string user_agent;                                   // default "chaton/<version>"
  std::string ca_file;                                      // https: a CA bundle instead of the system store
};

struct HttpReply {
  unsigned status = 0;
  std::string content_type;
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
};

boost::asio::awaitable<Result<HttpReply>> fetch(HttpRequest request);
Result<HttpReply> fetch_blocking(HttpRequest request);

// application/x-www-form-urlencoded encoding of one name or value.
std::string form_encode(std::string_view s);

// The first line of a plain-text error body, trimmed (the server's reason),
// or "HTTP <status>" when the body says nothing.
std::string reply_reason(const HttpReply& reply);

// The Errc that fits an HTTP error status (400 invalid, 403 forbidden, …).
Errc errc_for_status(unsigned status);

}  // namespace chaton::client
