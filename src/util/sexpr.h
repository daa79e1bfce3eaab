// Lisp (Gauche) data: the one reader and the string writer shared by the
// stored line format (messages/line_codec.h), the client's comet packets
// (client/client.h parse_packet) and `chaton import-conf`
// (config/import_conf.h). The rules are docs/STORAGE.md "S-expressions":
// whitespace and comments, strings with the escapes Gauche reads ("Strings
// as read"), integers, symbols, lists in ( ) or [ ] (proper and dotted),
// and 'x read as (quote x).
//
// Writing, docs/STORAGE.md "Strings as written":
//   "  -> \"     \ -> \\     newline -> \n   tab -> \t   CR -> \r
//   any other byte below 0x20, and 0x7f -> \xHH;  (two lowercase hex digits)
//   every other byte, non-ASCII UTF-8 included, is written raw.
//
// Reading never throws (but for allocation failure) and never recurses per
// list: Reader::skip() walks a datum of any depth in a loop, and building a
// Datum stops at kMaxDepth, so hostile input cannot exhaust the stack.
//
// The free functions are pure and thread-safe. A Reader is one cursor over
// text that must outlive it; it is not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace chaton {

void append_sexpr_string(std::string& out, std::string_view s);
std::string encode_sexpr_string(std::string_view s);

}  // namespace chaton

namespace chaton::sexpr {

// Lists and quotes read within one another when a Datum is built.
inline constexpr size_t kMaxDepth = 64;

struct Datum {
  enum class Kind {
    list,
    string,
    integer,      // fits in 64 bits: `integer`
    big_integer,  // integer syntax beyond 64 bits: only `text`
    symbol,
  };

  Kind kind = Kind::list;
  std::string text;          // a string's contents (valid UTF-8), a symbol's name, a big integer
  int64_t integer = 0;       // Kind::integer
  std::vector<Datum> items;  // Kind::list: the elements before any dot
  std::vector<Datum> tail;   // Kind::list: the datum after " . ", when dotted (0 or 1)
  size_t line = 0;           // 1-based line of the text where the datum starts

  bool is_list() const { return kind == Kind::list; }
  bool is_string() const { return kind == Kind::string; }
  bool is_integer() const { return kind == Kind::integer; }
  bool is_symbol() const { return kind == Kind::symbol; }
  bool is_symbol(std::string_view name) const { return kind == Kind::symbol && text == name; }
  bool is_dotted() const { return kind == Kind::list && !tail.empty(); }
};

struct Token {
  enum class Kind { open, close, dot, quote, string, integer, big_integer, symbol, end, error };

  Kind kind = Kind::end;
  char bracket = 0;     // open: '(' or '['; close: ')' or ']'
  std::string text;     // string (unescaped, valid UTF-8), symbol, integer as written
  int64_t integer = 0;  // Kind::integer
  size_t line = 0;      // 1-based
  size_t offset = 0;    // of the token's first byte
};

struct ReadError {
  std::string message;  // empty while there is none
  size_t line = 0;      // 1-based, where the problem starts (an unclosed list: its '(')
  size_t offset = 0;    // where reading stopped
};

// A cursor over `text`, reading tokens or whole data. After the first error
// every call fails and error() says why.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  // The next token; whitespace and comments (docs/STORAGE.md "S-expressions")
  // are skipped. Kind::error on a lexical error, Kind::end at the end.
  Token next();
  const Token& peek();
  // True when only whitespace and comments are left.
  bool at_end() { return peek().kind == Token::Kind::end; }

  // Reads one datum, building it; lists and quotes nested deeper than
  // kMaxDepth are an error. False on an error.
  bool read(Datum& out) { return walk(&out); }
  // Reads one datum without building it, at any depth, in constant stack.
  bool skip() { return walk(nullptr); }

  bool failed() const { return !error_.message.empty(); }
  const ReadError& error() const { return error_; }
  // A failure found by the caller (a datum of the wrong shape), kept like a
  // read error: the first one wins. Returns false.
  bool fail(std::string message, size_t line);

 private:
  Token lex();
  bool lex_string(Token& t);
  bool lex_escape(std::string& out);
  bool lex_hex_escape(std::string& out);
  bool lex_unicode_escape(std::string& out, int digits);
  void lex_atom(Token& t);
  bool skip_blank();
  bool skip_block_comment();
  bool walk(Datum* out);
  Token error_token();
  size_t line_at(size_t offset);

  std::string_view s_;
  size_t pos_ = 0;
  size_t counted_ = 0;        // newlines are counted in s_[0, counted_)
  size_t counted_line_ = 1;   // the line at counted_
  size_t comment_depth_ = 0;  // #; comments being skipped within one another
  std::optional<Token> peeked_;
  ReadError error_;
};

// Reads exactly one datum from `text`; whitespace and comments may surround
// it, anything else after it is an error. Errc::invalid naming the offset.
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
