// Reading the S-expressions a Chaton server writes (docs/PROTOCOL.md, "API
// login" and "The comet long-poll"): the apilogin reply and the comet `s=1`
// packets, both association lists of symbols, strings, integers and nested
// lists, e.g.
//
//   ((pos . 1234) (nc . 3) (ver . "0.1.0") (cid . 5678)
//    (content ("nick" (1732450000 123456) "text") ...))
//
// The reader knows lists (proper and dotted), double-quoted strings with the
// escapes of util/sexpr.h (plus Gauche's \0 \a \b \f \v \uXXXX and \xH…;),
// 64-bit integers and symbols; `;` comments are skipped. Anything else, or
// text after the datum, is an error value. Nesting is bounded so hostile
// input cannot exhaust the stack. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace chaton::sexpr {

inline constexpr size_t kMaxDepth = 64;

struct Datum {
  enum class Kind { list, string, integer, symbol };

  Kind kind = Kind::list;
  std::string text;          // a string's contents or a symbol's name
  int64_t integer = 0;       // Kind::integer
  std::vector<Datum> items;  // Kind::list: the elements before any dot
  std::vector<Datum> tail;   // Kind::list: the datum after " . ", when dotted (0 or 1)

  bool is_list() const { return kind == Kind::list; }
  bool is_string() const { return kind == Kind::string; }
  bool is_integer() const { return kind == Kind::integer; }
  bool is_symbol(std::string_view name) const { return kind == Kind::symbol && text == name; }
  bool is_dotted() const { return kind == Kind::list && !tail.empty(); }
};

// Reads exactly one datum from `text` (surrounding whitespace allowed).
Result<Datum> read(std::string_view text);

// The value for `key` in an association list: the cdr of the first element
// whose car is the symbol `key`. For `(key . v)` that is v; for
// `(key a b ...)` it is the list (a b ...), so `(content)` gives an empty
// list. nullopt when `alist` is not a list or has no such key.
std::optional<Datum> alist_ref(const Datum& alist, std::string_view key);

// Typed look-ups; nullopt when the key is missing or of another type.
std::optional<std::string> alist_string(const Datum& alist, std::string_view key);
std::optional<int64_t> alist_integer(const Datum& alist, std::string_view key);

}  // namespace chaton::sexpr
