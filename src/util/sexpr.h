// Writing Lisp (Gauche) string literals: the quoting shared by the stored
// line format and the S-expression wire format.
//
//   "  -> \"     \ -> \\     newline -> \n   tab -> \t   CR -> \r
//   any other byte below 0x20, and 0x7f -> \xHH;  (two lowercase hex digits)
//   every other byte, non-ASCII UTF-8 included, is written raw.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace chaton {

void append_sexpr_string(std::string& out, std::string_view s);
std::string encode_sexpr_string(std::string_view s);

}  // namespace chaton
