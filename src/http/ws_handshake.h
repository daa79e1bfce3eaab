// The server's side of a WebSocket opening handshake (RFC 6455 section 4.2).
//
// The HTTP session has read the request and found it an upgrade
// (beast::websocket::is_upgrade: GET, HTTP/1.1, `Connection: upgrade`,
// `Upgrade: websocket`); what is left is the version and key check and the
// 101 answer. A request with another version is told the one spoken (426 with
// `Sec-WebSocket-Version: 13`); one without a well-formed key gets 400.
//
// Pure functions: no sockets, no state.
#pragma once

#include <string>
#include <string_view>

#include "http/connection.h"

namespace chaton::http {

// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key: the
// base64 of the SHA-1 of the key and the protocol's GUID.
std::string websocket_accept_key(std::string_view key);

// The answer to an upgrade request: 101 Switching Protocols with its
// accept key, or the refusal (400 or 426) to send before closing.
Response websocket_handshake_response(const Request& req);

}  // namespace chaton::http
