// What a submitted post must look like before it is stored (docs/PROTOCOL.md,
// "Posting" and "Differences from the original").
//
// normalize_submission() applies the original's rules: invalid UTF-8 becomes
// '?', control characters other than tab, newline and carriage return are
// removed, both fields are trimmed. Where the original silently stored
// nothing or cut the text, this returns an error naming the reason.
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/result.h"

namespace chaton {

inline constexpr size_t kDefaultTextLimit = 2048;  // characters
inline constexpr size_t kDefaultNickLimit = 64;    // characters

struct PostLimits {
  size_t text_limit = kDefaultTextLimit;
  size_t nick_limit = kDefaultNickLimit;
};

struct Submission {
  std::string nick;
  std::string text;
};

// Errc::invalid for an empty nick or text ("nickname is empty" / "text is
// empty") or a nick over its limit; Errc::too_large for text over the limit,
// with a message naming the limit. In a nick, each tab and each line end
// (CR LF, CR, LF) becomes one space; in the text, CR LF and a lone CR
// become LF, and tab and LF are kept.
Result<Submission> normalize_submission(std::string_view nick, std::string_view text,
                                        const PostLimits& limits = {});

}  // namespace chaton
