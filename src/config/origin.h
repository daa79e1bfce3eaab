// Origins as browsers send them in `Origin` (RFC 6454): one normal form, so
// that the configuration ([site] allowed_origins) and the check of each
// request (http/origin.h) compare the same strings.
//
// Thread-safety: a pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chaton {

// "scheme://host[:port]" as Origin compares: http or https only, scheme and
// host lower-cased, the scheme's default port dropped, nothing after the
// authority but an optional "/". Nullopt for anything else ("null" too).
std::optional<std::string> normalize_origin(std::string_view origin);

}  // namespace chaton
