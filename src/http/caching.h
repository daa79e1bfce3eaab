// HTTP caching and compression of a response whose body is known whole
// (docs/PROTOCOL.md, "HTTP caching and compression"): one piece of code for
// every cacheable response (archive pages, the archive index, RSS, status
// files, assets) and every compressed one.
//
// cacheable() gives a 200 response its validators (an ETag from its body,
// Last-Modified when the caller knows it) and Cache-Control, and answers a
// conditional GET or HEAD whose validator still matches with 304 Not
// Modified and no body (RFC 9110, 13.1.1 and 13.1.3; If-None-Match wins
// over If-Modified-Since). Then, as compressed() alone, it compresses the
// body with gzip when the request accepts it.
//
// compressed() sends `Vary: Accept-Encoding` on every response it may
// compress, so that caches keep the two forms apart, and compresses only
// bodies of kMinGzipBytes or more (below, the gzip header and the work
// are not worth it). The live transports never come here (long-poll
// replies, event streams and WebSocket frames): a reply is waited for
// by thousands of readers at once and must go out at once, each reader's
// copy would cost a compression, and a stream must not hold back bytes in
// a compressor. The ETag is weak (W/"..."): the gzip and identity forms of
// one body share it, equivalent but not the same bytes.
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/connection.h"

namespace chaton::http {

inline constexpr size_t kMinGzipBytes = 1024;

struct CachePolicy {
  std::string cache_control;             // e.g. "public, max-age=31536000, immutable"
  std::optional<int64_t> last_modified;  // seconds since the epoch; none: no Last-Modified
  // The body already compressed (static assets, compressed once at start);
  // null: compressed per response when accepted.
  std::shared_ptr<const std::string> gzipped;
  // The body's entity_tag() made once (static assets); empty: made from the
  // body on each response.
  std::string etag;
};

// W/"<first 128 bits of the body's SHA-256, in hex>".
std::string entity_tag(std::string_view body);

// Whether an Accept-Encoding value allows gzip (or "*") with a q above 0.
bool accepts_gzip(std::string_view accept_encoding);

// Whether `req` is a GET or HEAD whose If-None-Match lists `etag` (weak
// comparison; "*" matches) or, without If-None-Match, whose
// If-Modified-Since is not before `last_modified`.
bool not_modified(const Request& req, std::string_view etag, std::optional<int64_t> last_modified);

// `res` (a 200 with its whole body) with ETag, Last-Modified and
// Cache-Control from `policy`: a 304 with no body when `req` still holds
// it, else compressed() as `req` accepts.
Response cacheable(const Request& req, Response res, const CachePolicy& policy);

// `res` with `Vary: Accept-Encoding`, its body gzipped (`gzipped` when
// given) with `Content-Encoding: gzip` when `req` accepts gzip and the body
// is at least kMinGzipBytes. A body that cannot be compressed goes as it is.
Response compressed(const Request& req, Response res, std::shared_ptr<const std::string> gzipped = nullptr);

}  // namespace chaton::http
