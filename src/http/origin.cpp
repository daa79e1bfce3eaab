// OriginPolicy: see origin.h.
#include "http/origin.h"

#include <algorithm>

#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace chaton::http {

namespace {

bool changes_state(const Request& req) {
  return (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) ||
         beast::websocket::is_upgrade(req);
}

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

Status refused(std::string_view why) {
  return Status(Errc::forbidden,
                "refused: " + std::string(why) + "; a page of another site may not post or connect here");
}

}  // namespace

OriginPolicy::OriginPolicy(std::string_view public_url, const std::vector<std::string>& allowed, bool tls)
    : host_scheme_(tls ? "https://" : "http://") {
  // The public URL's origin: its scheme and authority, without the path.
  if (size_t scheme_end = public_url.find("://"); scheme_end != std::string_view::npos) {
    size_t path = public_url.find('/', scheme_end + 3);
    if (auto o = normalize_origin(public_url.substr(0, path))) own_.push_back(*o);
  }
  for (const auto& a : allowed)
    if (auto o = normalize_origin(a)) allowed_.push_back(*o);
}

Status OriginPolicy::check(const Request& req) const {
  if (!changes_state(req)) return Status::ok();
  const bool cross_site = beast::iequals(req["Sec-Fetch-Site"], "cross-site");
  const size_t origins = req.count(bhttp::field::origin);
  if (origins == 0) return cross_site ? refused("the browser says this request is cross-site") : Status::ok();
  if (origins > 1) return refused("more than one Origin");
  std::optional<std::string> origin = normalize_origin(req[bhttp::field::origin]);
  if (!origin) return refused("the request's Origin is not a site's (null or malformed)");
  if (contains(allowed_, *origin)) return Status::ok();
  if (cross_site) return refused("the browser says this request is cross-site");
  if (contains(own_, *origin)) return Status::ok();
  // The request's own Host, under the scheme this server speaks: a page of
  // http://host may not post to https://host (it could be an injected one).
  std::string_view host = req[bhttp::field::host];
  if (!host.empty() && normalize_origin(host_scheme_ + std::string(host)) == origin) return Status::ok();
  return refused("the request comes from another site (Origin)");
}

}  // namespace chaton::http
