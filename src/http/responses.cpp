// Responses: see responses.h.
#include "http/responses.h"

namespace chaton::http {

Response make_response(bhttp::status status, std::string_view content_type, std::string body) {
  Response res{status, 11};
  res.set(bhttp::field::server, kServerName);
  res.set(bhttp::field::content_type, content_type);
  res.set("X-Content-Type-Options", "nosniff");
  res.body() = std::move(body);
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
  Response res = error_response(bhttp::status::method_not_allowed,
                                "method not allowed; use " + std::string(allow));
  res.set(bhttp::field::allow, allow);
  return res;
}

bhttp::status status_for(Errc code) {
  switch (code) {
    case Errc::ok: return bhttp::status::ok;
    case Errc::invalid: return bhttp::status::bad_request;
    case Errc::forbidden: return bhttp::status::forbidden;
    case Errc::not_found: return bhttp::status::not_found;
    case Errc::too_large: return bhttp::status::payload_too_large;
    case Errc::rate_limited: return bhttp::status::too_many_requests;
    case Errc::io: return bhttp::status::service_unavailable;
    case Errc::corrupt: return bhttp::status::internal_server_error;
  }
  return bhttp::status::internal_server_error;
}

Response error_response(const Status& st) {
  Response res = error_response(status_for(st.code()), st.message());
  if (st.retry_after() > 0) res.set(bhttp::field::retry_after, std::to_string(st.retry_after()));
  return res;
}

}  // namespace chaton::http
