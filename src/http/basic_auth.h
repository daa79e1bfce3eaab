// HTTP Basic authentication (RFC 7617) for private rooms: reading the
// credentials of an Authorization header and the 401 challenge. Checking
// them is the Htpasswd's job (access/htpasswd.h); the room's endpoints tie
// the two together.
//
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/exchange.h"

namespace chaton::http {

struct Credentials {
  std::string user;
  std::string password;
};

// The user and password of "Basic <base64(user:password)>"; nullopt when the
// header is absent, another scheme, or not valid base64 with a ':'.
std::optional<Credentials> parse_basic_auth(std::string_view authorization);

// 401 with `WWW-Authenticate: Basic realm="<realm>", charset="UTF-8"` and a
// one-line reason.
Response unauthorized(std::string_view realm, std::string_view message);

}  // namespace chaton::http
