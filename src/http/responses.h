// Building responses: the common headers, plain-text errors with a clear
// message, and the mapping from a domain Errc to an HTTP status.
#pragma once

#include <string>
#include <string_view>

#include "http/exchange.h"
#include "util/result.h"

namespace chaton::http {

inline constexpr std::string_view kServerName = "chaton/" CHATON_VERSION;

Response make_response(bhttp::status status, std::string_view content_type, std::string body);
// "message\n" as text/plain, never cached.
Response error_response(bhttp::status status, std::string_view message);
Response redirect_response(bhttp::status status, std::string_view location);
Response method_not_allowed(std::string_view allow);

bhttp::status status_for(Errc code);
Response error_response(const Status& st);

}  // namespace chaton::http
