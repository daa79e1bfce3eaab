// Origins: see origin.h.
#include "config/origin.h"

#include <algorithm>
#include <cctype>

#include <boost/url/parse.hpp>

namespace chaton {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::optional<std::string> normalize_origin(std::string_view origin) {
  auto u = boost::urls::parse_absolute_uri(origin);
  if (!u) return std::nullopt;
  std::string scheme = lower(u->scheme());
  if (scheme != "http" && scheme != "https") return std::nullopt;
  if (!u->has_authority() || u->has_userinfo() || u->encoded_host().empty()) return std::nullopt;
  if (u->has_query() || u->has_fragment()) return std::nullopt;
  if (!u->encoded_path().empty() && u->encoded_path() != "/") return std::nullopt;
  // A host name of letters, digits, '-' and '.', or an IP literal: no
  // wildcard, no percent-encoding (a browser never sends them in Origin).
  std::string_view host = u->encoded_host();
  if (u->host_type() != boost::urls::host_type::ipv6 &&
      !std::all_of(host.begin(), host.end(),
                   [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; }))
    return std::nullopt;
  std::string out = scheme + "://" + lower(host);
  if (u->has_port()) {
    std::string_view port = u->port();
    if (port.empty() || port.size() > 5) return std::nullopt;
    if (!(scheme == "http" && port == "80") && !(scheme == "https" && port == "443"))
      out += ":" + std::string(port);
  }
  return out;
}

}  // namespace chaton
