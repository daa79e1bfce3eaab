// HTTP caching and compression: see caching.h.
#include "http/caching.h"

#include <openssl/evp.h>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include "util/gzip.h"
#include "util/text.h"

namespace chaton::http {

namespace {

namespace beast = boost::beast;

// RFC 9110, 5.6.7 (IMF-fixdate) for `t`, and back; the other two obsolete
// forms are not read (an unreadable date means no condition).
std::string http_date(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::optional<int64_t> parse_http_date(std::string_view s) {
  std::tm tm{};
  std::string text(trim(s));
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

// The opaque part of an entity tag, without W/ (weak comparison).
std::string_view opaque(std::string_view tag) {
  tag = trim(tag);
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  return tag;
}

}  // namespace

std::string entity_tag(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(body.data(), body.size(), digest, &size, EVP_sha256(), nullptr);
  std::string tag = "W/\"";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < 16 && i < size; ++i) {
    tag += kHex[digest[i] >> 4];
    tag += kHex[digest[i] & 15];
  }
  return tag + '"';
}

bool accepts_gzip(std::string_view accept_encoding) {
  std::optional<bool> any;
  for (const auto& element : beast::http::ext_list(accept_encoding)) {
    bool allowed = true;
    for (const auto& param : element.second)
      if (beast::iequals(param.first, "q"))
        allowed =
            trim(param.second).find_first_not_of("0.") != std::string_view::npos;  // q=0, q=0.000: refused
    if (beast::iequals(element.first, "gzip") || beast::iequals(element.first, "x-gzip")) return allowed;
    if (element.first == "*") any = allowed;
  }
  return any.value_or(false);
}

bool not_modified(const Request& req, std::string_view etag, std::optional<int64_t> last_modified) {
  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) return false;
  auto inm = req.find(bhttp::field::if_none_match);
  if (inm != req.end()) {
    std::string_view list = inm->value();
    if (trim(list) == "*") return true;
    while (!list.empty()) {
      size_t comma = list.find(',');
      if (opaque(list.substr(0, comma)) == opaque(etag)) return true;
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    return false;
  }
  auto ims = req.find(bhttp::field::if_modified_since);
  if (ims == req.end() || !last_modified) return false;
  auto since = parse_http_date(ims->value());
  return since && *last_modified <= *since;
}

Response cacheable(const Request& req, Response res, const CachePolicy& policy) {
  std::string etag = policy.etag.empty() ? entity_tag(res.body()) : policy.etag;
  res.set(bhttp::field::etag, etag);
  if (policy.last_modified) res.set(bhttp::field::last_modified, http_date(*policy.last_modified));
  res.set(bhttp::field::cache_control, policy.cache_control);
  if (not_modified(req, etag, policy.last_modified)) {
    // The same header fields a 200 would carry that describe the
    // representation, and no body (RFC 9110, 15.4.5).
    res.result(bhttp::status::not_modified);
    res.body().clear();
    res.erase(bhttp::field::content_type);
    res.set(bhttp::field::vary, "Accept-Encoding");
    return res;
  }
  return compressed(req, std::move(res), policy.gzipped);
}

Response compressed(const Request& req, Response res, std::shared_ptr<const std::string> gzipped) {
  res.set(bhttp::field::vary, "Accept-Encoding");
  if (res.body().size() < kMinGzipBytes || !accepts_gzip(req[bhttp::field::accept_encoding])) return res;
  if (gzipped) {
    res.body() = *gzipped;
  } else {
    auto z = gzip_compress(res.body());
    if (!z) return res;
    res.body() = std::move(z.value());
  }
  res.set(bhttp::field::content_encoding, "gzip");
  return res;
}

}  // namespace chaton::http
