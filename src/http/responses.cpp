// Responses: see responses.h.
#include "http/responses.h"

namespace chaton::http {

namespace {

// Full URLs to this site, only the origin elsewhere, nothing from https to http.
constexpr std::string_view kReferrerPolicy = "strict-origin-when-cross-origin";
// For everything that is not a page (JSON, text, feeds, scripts): nothing
// in it may run, load or be framed.
constexpr std::string_view kNothingAllowed = "default-src 'none'; frame-ancestors 'none'; sandbox";

}  // namespace

Response make_response(bhttp::status status, std::string_view content_type, std::string body) {
  Response res{status, 11};
  res.set(bhttp::field::server, kServerName);
  res.set(bhttp::field::content_type, content_type);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", kReferrerPolicy);
  res.set("Content-Security-Policy", kNothingAllowed);
  res.set("X-Frame-Options", "DENY");
  res.body() = std::move(body);
  return res;
}

std::string frame_ancestors_of(const std::vector<std::string>& origins) {
  std::string v = "'self'";
  for (const auto& o : origins) {
    if (o == "'self'") continue;
    v += ' ';
    v += o;
  }
  return v;
}

std::string page_csp(std::string_view frame_ancestors) {
  std::string csp =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; "
      "media-src *; frame-src https://www.youtube-nocookie.com https://embed.nicovideo.jp; "
      "connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; "
      "frame-ancestors ";
  csp += frame_ancestors;
  return csp;
}

Response html_response(bhttp::status status, std::string body, std::string_view frame_ancestors) {
  Response res = make_response(status, "text/html; charset=utf-8", std::move(body));
  res.set("Content-Security-Policy", page_csp(frame_ancestors));
  res.set(bhttp::field::cache_control, "no-cache");
  // X-Frame-Options, for browsers without frame-ancestors, can name no
  // other origin: with origins configured it is left out.
  if (frame_ancestors == kNoFraming)
    res.set("X-Frame-Options", "DENY");
  else if (frame_ancestors == "'self'")
    res.set("X-Frame-Options", "SAMEORIGIN");
  else
    res.erase("X-Frame-Options");
  return res;
}

Response error_response(bhttp::status status, std::string_view message) {
  std::string body(message);
  body += '\n';
  Response res = make_response(status, "text/plain; charset=utf-8", std::move(body));
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

Response redirect_response(bhttp::status status, std::string_view location) {
  Response res = make_response(status, "text/plain; charset=utf-8", std::string(location) + "\n");
  res.set(bhttp::field::location, location);
  return res;
}

Response method_not_allowed(std::string_view allow) {
  Response res =
      error_response(bhttp::status::method_not_allowed, "method not allowed; use " + std::string(allow));
  res.set(bhttp::field::allow, allow);
  return res;
}

bhttp::status status_for(Errc code) {
  switch (code) {
    case Errc::ok:
      return bhttp::status::ok;
    case Errc::invalid:
      return bhttp::status::bad_request;
    case Errc::forbidden:
      return bhttp::status::forbidden;
    case Errc::not_found:
      return bhttp::status::not_found;
    case Errc::too_large:
      return bhttp::status::payload_too_large;
    case Errc::rate_limited:
      return bhttp::status::too_many_requests;
    case Errc::io:  // a disk or database failure: try again later
    case Errc::unavailable:
      return bhttp::status::service_unavailable;
    case Errc::corrupt:
      return bhttp::status::internal_server_error;
  }
  return bhttp::status::internal_server_error;
}

Response error_response(const Status& st) {
  Response res = error_response(status_for(st.code()), st.message());
  if (st.retry_after() > 0) res.set(bhttp::field::retry_after, std::to_string(st.retry_after()));
  return res;
}

}  // namespace chaton::http
