// Building responses: the common headers, plain-text errors with a clear
// message, and the mapping from a domain Errc to an HTTP status.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/exchange.h"
#include "util/result.h"

namespace chaton::http {

inline constexpr std::string_view kServerName = "chaton/" CHATON_VERSION;

// Every response carries nosniff, a Referrer-Policy, and a policy that
// forbids framing it and running anything in it; html_response() loosens
// that for server-rendered pages.
Response make_response(bhttp::status status, std::string_view content_type, std::string body);

// The CSP frame-ancestors value of a page that may not be framed.
inline constexpr std::string_view kNoFraming = "'none'";
// The frame-ancestors value of a page that may be framed by this site and
// the configured origins ([site] frame_ancestors).
std::string frame_ancestors_of(const std::vector<std::string>& origins);
// The Content-Security-Policy every HTML page is sent with: scripts,
// styles and connections from this site only, no inline code, images and
// media from anywhere, the two video embeds; `frame_ancestors` is the value
// of that directive. The pages (src/pages) hold to it: no inline script,
// style or event handler.
std::string page_csp(std::string_view frame_ancestors);
// A server-rendered HTML page: the page CSP with the given
// frame-ancestors, the matching X-Frame-Options, never cached.
Response html_response(bhttp::status status, std::string body, std::string_view frame_ancestors = kNoFraming);
// "message\n" as text/plain, never cached.
Response error_response(bhttp::status status, std::string_view message);
Response redirect_response(bhttp::status status, std::string_view location);
Response method_not_allowed(std::string_view allow);

bhttp::status status_for(Errc code);
Response error_response(const Status& st);

}  // namespace chaton::http
