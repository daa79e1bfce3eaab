// The original Chaton line format (docs/STORAGE.md), read and written exactly:
//
//     ("nick" (SECONDS MICROSECONDS) "text" "ip-address")
//
// Strings are double-quoted; `\"` and `\\` stand for themselves, `\n`, `\t`,
// `\r` for newline, tab and carriage return, `\xHH;` for any other control
// character; every other byte, non-ASCII UTF-8 included, is written raw
// (docs/STORAGE.md "Strings as written"). Lines are read with the one
// S-expression reader, util/sexpr.h (docs/STORAGE.md "S-expressions",
// "Strings as read"), and checked for the shape of "Unreadable lines". The
// address is optional when reading (old lines lack it).
//
// Pure functions, thread-safe. The string quoting and the reader are
// util/sexpr.h, shared with the S-expression wire format and import-conf.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/post.h"
#include "util/sexpr.h"

namespace chaton {

// One line, without the trailing newline.
std::string encode_line(const Post& post);

// Parses one line (a trailing "\n" or "\r\n" is allowed). nullopt when the line
// is not a well-formed entry. seq is left 0.
std::optional<Post> decode_line(std::string_view line);

struct BadLine {
  size_t line_number = 0;  // 1-based
  std::string reason;
};

struct ParsedLog {
  std::vector<Post> posts;   // in file order, seq left 0
  std::vector<BadLine> bad;  // unreadable lines, skipped
  bool torn_tail = false;    // the content did not end with a newline
};

// Parses a whole log file's content, skipping (and reporting) unreadable lines.
// Blank lines are ignored silently.
ParsedLog parse_log(std::string_view content);

}  // namespace chaton
