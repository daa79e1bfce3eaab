// gzip (RFC 1952) of a whole body, with zlib: the server compresses
// pages, feeds, scripts and stylesheets it sends whole
// (docs/PROTOCOL.md, "HTTP caching and compression"; http/caching.h).
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace chaton {

// `data` as one gzip member (zlib's default level). Fails only when zlib
// does (out of memory): Errc::io with zlib's message.
Result<std::string> gzip_compress(std::string_view data);

}  // namespace chaton
