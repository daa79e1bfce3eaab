// OriginPolicy: refusing requests another site makes a browser send.
//
// A page on any site can make its visitor's browser POST a form here, or
// open a WebSocket, and the browser adds what it holds for this site (a
// private room's Basic credentials). Such requests name the page's site
// in `Origin` (and, in current browsers, say `Sec-Fetch-Site: cross-site`).
// So a request that changes state — every method but GET and HEAD, and
// every WebSocket upgrade — is refused with 403 when its Origin is another
// site's (`Origin: null` included) or its Sec-Fetch-Site is cross-site,
// unless that origin is listed in [site] allowed_origins. This site's own
// origins are the public URL's and the request's own Host (under the
// scheme this server speaks: https with TLS, http without). A request without either header (curl, bots, the
// client library) is not a browser's cross-site request and goes on (docs/PROTOCOL.md, "Cross-site
// requests").
//
// Thread-safety: immutable after construction; check() from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/origin.h"
#include "http/connection.h"
#include "util/result.h"

namespace chaton::http {

class OriginPolicy {
 public:
  OriginPolicy() = default;  // only the request's own Host (over http) is this site
  // `public_url`: the site's public URL; `allowed`: [site] allowed_origins;
  // `tls`: whether the server speaks HTTPS (the scheme of its own Host).
  OriginPolicy(std::string_view public_url, const std::vector<std::string>& allowed, bool tls);

  // ok, or forbidden with a one-line reason for a cross-site request that
  // would change state.
  [[nodiscard]] Status check(const Request& req) const;

 private:
  std::vector<std::string> own_;      // normalized
  std::vector<std::string> allowed_;  // normalized
  std::string host_scheme_ = "http://";
};

}  // namespace chaton::http
