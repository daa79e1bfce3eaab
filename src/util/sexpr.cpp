// The one S-expression reader and the string writer: see sexpr.h. Every rule
// here is one of docs/STORAGE.md "S-expressions" and "Strings as read".
#include "util/sexpr.h"

#include <charconv>
#include <exception>

#include "util/text.h"

namespace chaton {

void append_sexpr_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
          out.push_back(';');
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

std::string encode_sexpr_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_sexpr_string(out, s);
  return out;
}

}  // namespace chaton

namespace chaton::sexpr {

namespace {

constexpr int kMaxHexDigitsWithSemicolon = 8;  // \xH...; (1..8 digits)
constexpr int kLegacyHexDigits = 2;            // \xHH without ';'
constexpr int kUnicodeEscapeDigits = 4;        // \uHHHH
constexpr int kLongUnicodeEscapeDigits = 8;    // \UHHHHHHHH
constexpr size_t kErrorContext = 40;           // characters of input quoted in an error

// docs/STORAGE.md "S-expressions": the whitespace set.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_intraline_space(char c) { return c == ' ' || c == '\t'; }
// What ends a symbol or an integer.
bool is_delimiter(char c) {
  return is_space(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"' || c == ';';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_integer_syntax(std::string_view t) {
  size_t first = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (first == t.size()) return false;  // "-" or "+" alone is a symbol
  for (size_t k = first; k < t.size(); ++k)
    if (t[k] < '0' || t[k] > '9') return false;
  return true;
}

}  // namespace

// ------------------------------------------------------------------ tokens

size_t Reader::line_at(size_t offset) {
  offset = std::min(offset, s_.size());
  for (; counted_ < offset; ++counted_)
    if (s_[counted_] == '\n') ++counted_line_;
  return counted_line_;
}

bool Reader::fail(std::string message, size_t line) {
  if (error_.message.empty()) {
    error_.message = std::move(message);
    error_.line = line;
    error_.offset = pos_;
  }
  return false;
}

Token Reader::error_token() {
  Token t;
  t.kind = Token::Kind::error;
  t.offset = error_.offset;
  t.line = error_.line;
  return t;
}

// Whitespace, `; ...` to the end of the line and `#| ... |#` (nested).
bool Reader::skip_blank() {
  for (;;) {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
    if (pos_ >= s_.size()) return true;
    if (s_[pos_] == ';') {
      while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
    } else if (s_.substr(pos_, 2) == "#|") {
      if (!skip_block_comment()) return false;
    } else {
      return true;
    }
  }
}

bool Reader::skip_block_comment() {
  size_t start_line = line_at(pos_);
  size_t depth = 0;
  while (pos_ + 1 < s_.size()) {
    std::string_view two = s_.substr(pos_, 2);
    if (two == "#|") {
      ++depth;
      pos_ += 2;
    } else if (two == "|#") {
      pos_ += 2;
      if (--depth == 0) return true;
    } else {
      ++pos_;
    }
  }
  pos_ = s_.size();
  return fail("unterminated #| comment (it starts here)", start_line);
}

Token Reader::lex() {
  for (;;) {
    if (failed() || !skip_blank()) return error_token();
    if (s_.substr(pos_, 2) != "#;") break;
    // A datum comment: the datum after it is skipped, and so are further
    // comments (in a loop: a long run of them costs no stack).
    size_t line = line_at(pos_);
    pos_ += 2;
    if (comment_depth_ >= kMaxDepth) {
      fail("nested too deeply", line);
      return error_token();
    }
    ++comment_depth_;
    bool ok = skip();
    --comment_depth_;
    if (!ok) return error_token();
  }
  Token t;
  t.offset = pos_;
  t.line = line_at(pos_);
  if (pos_ >= s_.size()) return t;  // Kind::end
  char c = s_[pos_];
  switch (c) {
    case '(':
    case '[':
      ++pos_;
      t.kind = Token::Kind::open;
      t.bracket = c;
      return t;
    case ')':
    case ']':
      ++pos_;
      t.kind = Token::Kind::close;
      t.bracket = c;
      return t;
    case '\'':
      ++pos_;
      t.kind = Token::Kind::quote;
      return t;
    case '"':
      if (!lex_string(t)) return error_token();
      return t;
    default:
      break;
  }
  lex_atom(t);
  return t;
}

void Reader::lex_atom(Token& t) {
  size_t start = pos_;
  while (pos_ < s_.size() && !is_delimiter(s_[pos_])) ++pos_;
  std::string_view token = s_.substr(start, pos_ - start);
  t.text = std::string(token);
  if (token == ".") {
    t.kind = Token::Kind::dot;
  } else if (is_integer_syntax(token)) {
    if (token[0] == '+') token.remove_prefix(1);
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), t.integer);
    bool fits = ec == std::errc{} && end == token.data() + token.size();
    t.kind = fits ? Token::Kind::integer : Token::Kind::big_integer;
    if (!fits) t.integer = 0;
  } else {
    t.kind = Token::Kind::symbol;
  }
}

bool Reader::lex_string(Token& t) {
  ++pos_;  // the opening quote
  std::string raw;
  while (pos_ < s_.size()) {
    char c = s_[pos_++];
    if (c == '"') {
      t.kind = Token::Kind::string;
      t.text = repair_utf8(raw);
      return true;
    }
    if (c != '\\') {
      raw.push_back(c);
    } else if (pos_ >= s_.size()) {
      break;
    } else if (!lex_escape(raw)) {
      return fail("a string escape Gauche cannot read", line_at(pos_));
    }
  }
  pos_ = s_.size();
  return fail("unterminated string (it starts here)", t.line);
}

// The character after a backslash is at pos_ (in range): docs/STORAGE.md
// "Strings as read". False where Gauche stops with a read error.
bool Reader::lex_escape(std::string& out) {
  char e = s_[pos_++];
  switch (e) {
    case 'n':
      out.push_back('\n');
      return true;
    case 't':
      out.push_back('\t');
      return true;
    case 'r':
      out.push_back('\r');
      return true;
    case '0':
      out.push_back('\0');
      return true;
    case 'a':
      out.push_back('\a');
      return true;
    case 'b':
      out.push_back('\b');
      return true;
    case 'f':
      out.push_back('\f');
      return true;
    case 'x':
      return lex_hex_escape(out);
    case 'u':
      return lex_unicode_escape(out, kUnicodeEscapeDigits);
    case 'U':
      return lex_unicode_escape(out, kLongUnicodeEscapeDigits);
    case ' ':
    case '\t':
      // A line continuation: only spaces and tabs up to the line's end.
      while (pos_ < s_.size() && is_intraline_space(s_[pos_])) ++pos_;
      if (pos_ >= s_.size() || (s_[pos_] != '\r' && s_[pos_] != '\n')) return false;
      ++pos_;
      [[fallthrough]];
    case '\r':
    case '\n':
      // After the line end (a CR LF is one), the leading spaces and tabs of
      // the next line are dropped.
      if (s_[pos_ - 1] == '\r' && pos_ < s_.size() && s_[pos_] == '\n') ++pos_;
      while (pos_ < s_.size() && is_intraline_space(s_[pos_])) ++pos_;
      return true;
    default:
      out.push_back(e);  // \" \\ \v and every other: the character itself
      return true;
  }
}

// \xH...; (1..8 digits), or the older \xHH. False when neither fits.
bool Reader::lex_hex_escape(std::string& out) {
  uint32_t cp = 0;
  int n = 0;
  while (n < kMaxHexDigitsWithSemicolon && pos_ + n < s_.size() && hex_value(s_[pos_ + n]) >= 0)
    cp = cp * 16 + static_cast<uint32_t>(hex_value(s_[pos_ + n++]));
  if (n > 0 && pos_ + n < s_.size() && s_[pos_ + n] == ';') {
    pos_ += static_cast<size_t>(n) + 1;
    append_utf8(out, cp);
    return true;
  }
  if (n < kLegacyHexDigits) return false;
  cp = static_cast<uint32_t>(hex_value(s_[pos_]) * 16 + hex_value(s_[pos_ + 1]));
  pos_ += kLegacyHexDigits;
  append_utf8(out, cp);
  return true;
}

// \uHHHH, with a following \uHHHH low surrogate joined to a high one, or
// \UHHHHHHHH: exactly `digits` hex digits.
bool Reader::lex_unicode_escape(std::string& out, int digits) {
  auto fixed_hex = [&](size_t at, uint32_t& value) {
    value = 0;
    if (s_.size() - at < static_cast<size_t>(digits)) return false;
    for (int k = 0; k < digits; ++k) {
      int h = hex_value(s_[at + k]);
      if (h < 0) return false;
      value = value * 16 + static_cast<uint32_t>(h);
    }
    return true;
  };
  uint32_t cp = 0;
  if (!fixed_hex(pos_, cp)) return false;
  pos_ += static_cast<size_t>(digits);
  if (digits == kUnicodeEscapeDigits && cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
    uint32_t low = 0;
    if (fixed_hex(pos_ + 2, low) && low >= 0xDC00 && low <= 0xDFFF) {
      pos_ += 2 + kUnicodeEscapeDigits;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
  }
  append_utf8(out, cp);
  return true;
}

Token Reader::next() {
  if (peeked_) {
    Token t = std::move(*peeked_);
    peeked_.reset();
    return t;
  }
  return lex();
}

const Token& Reader::peek() {
  if (!peeked_) peeked_ = lex();
  return *peeked_;
}

// ------------------------------------------------------------------ data

// One datum, in a loop over its tokens with an explicit stack of the lists
// (and quotes) open, so that depth costs heap, not stack. With `out`, the
// datum is built and nesting is bounded by kMaxDepth; without, it is only
// checked, and levels alike (the same bracket, state and line) share one
// entry of the stack, so a line of a million '(' costs one.
bool Reader::walk(Datum* out) {
  enum State : uint8_t { kEmpty, kItems, kAfterDot, kDottedDone };
  struct Level {
    Datum* list;  // nullptr when skipping
    char close;   // ')' or ']'; 0 for a quote
    State state;
    size_t line;
    size_t count;  // levels alike in this entry (1 when building)
  };
  std::vector<Level> stack;

  // The innermost level, as an entry of its own, to be changed.
  auto innermost = [&]() -> Level& {
    Level& top = stack.back();
    if (top.count == 1) return top;
    --top.count;
    Level one = top;
    one.count = 1;
    return stack.emplace_back(one);
  };
  auto pop = [&]() {
    if (--stack.back().count == 0) stack.pop_back();
  };

  // Where the next datum goes; nullptr when skipping.
  auto place = [&](const Token& t, Datum::Kind kind) -> Datum* {
    Datum* d = nullptr;
    if (stack.empty()) {
      d = out;
    } else if (Level& top = stack.back(); top.list) {
      auto& where = top.state == kAfterDot ? top.list->tail : top.list->items;
      d = &where.emplace_back();
    }
    if (d) {
      d->kind = kind;
      d->line = t.line;
    }
    return d;
  };
  // A datum ended: true when it was the whole one asked for. A quote ends
  // with its datum.
  auto finished = [&]() {
    while (!stack.empty() && stack.back().close == 0) stack.pop_back();
    if (stack.empty()) return true;
    if (stack.back().state == kItems) return false;
    Level& top = innermost();
    top.state = top.state == kAfterDot ? kDottedDone : kItems;
    return false;
  };
  auto push = [&](Datum* list, char close, State state, size_t line) {
    if (out && stack.size() >= kMaxDepth) return fail("nested too deeply", line);
    if (!list && !stack.empty()) {
      Level& top = stack.back();
      if (top.close == close && top.state == state && top.line == line) {
        ++top.count;
        return true;
      }
    }
    stack.push_back(Level{list, close, state, line, 1});
    return true;
  };

  for (;;) {
    Token t = next();
    using K = Token::Kind;
    if (t.kind == K::error) return false;
    if (t.kind == K::end) {
      if (stack.empty()) return fail("unexpected end of input", t.line);
      if (stack.back().close == 0) return fail("nothing after a quote", t.line);
      return fail(
          std::string("unclosed '") + (stack.back().close == ')' ? '(' : '[') + "' (the list starts here)",
          stack.back().line);
    }
    if (t.kind == K::close) {
      if (stack.empty()) return fail(std::string("unexpected '") + t.bracket + "'", t.line);
      Level& top = stack.back();
      if (top.close == 0) return fail("nothing after a quote", t.line);
      if (top.close != t.bracket)
        return fail(std::string("'") + t.bracket + "' closes a list opened with '" +
                        (top.close == ')' ? '(' : '[') + "'",
                    t.line);
      if (top.state == kAfterDot) return fail("nothing after '.'", t.line);
      pop();
      if (finished()) return true;
      continue;
    }
    if (t.kind == K::dot) {
      if (stack.empty() || stack.back().state != kItems || stack.back().close == 0)
        return fail("unexpected '.'", t.line);
      innermost().state = kAfterDot;
      continue;
    }
    if (!stack.empty() && stack.back().state == kDottedDone)
      return fail("more than one datum after '.'", t.line);
    switch (t.kind) {
      case K::open: {
        Datum* d = place(t, Datum::Kind::list);
        if (!push(d, t.bracket == '(' ? ')' : ']', kEmpty, t.line)) return false;
        continue;
      }
      case K::quote: {  // 'x is (quote x)
        Datum* d = place(t, Datum::Kind::list);
        if (d) {
          d->items.emplace_back();
          d->items.back().kind = Datum::Kind::symbol;
          d->items.back().text = "quote";
          d->items.back().line = t.line;
        }
        if (!push(d, 0, kItems, t.line)) return false;
        continue;
      }
      case K::string:
      case K::symbol:
      case K::big_integer:
        if (Datum* d = place(t, t.kind == K::string   ? Datum::Kind::string
                                : t.kind == K::symbol ? Datum::Kind::symbol
                                                      : Datum::Kind::big_integer))
          d->text = std::move(t.text);
        break;
      case K::integer:
        if (Datum* d = place(t, Datum::Kind::integer)) {
          d->integer = t.integer;
          d->text = std::move(t.text);
        }
        break;
      default:
        return fail("unexpected token", t.line);
    }
    if (finished()) return true;
  }
}

Result<Datum> read(std::string_view text) {
  try {
    Reader r(text);
    Datum d;
    if (r.read(d) && !r.at_end()) r.fail("unexpected text after the datum", r.peek().line);
    if (!r.failed()) return d;
    const ReadError& e = r.error();
    std::string_view near = text.substr(std::min(e.offset, text.size()), kErrorContext);
    return Status(Errc::invalid, "S-expression: " + e.message + " at offset " + std::to_string(e.offset) +
                                     (near.empty() ? "" : " near '" + std::string(near) + "'"));
  } catch (const std::exception& e) {  // allocation failure
    return Status(Errc::invalid, std::string("S-expression: ") + e.what());
  }
}

std::optional<Datum> alist_ref(const Datum& alist, std::string_view key) {
  if (!alist.is_list()) return std::nullopt;
  for (const Datum& entry : alist.items) {
    if (!entry.is_list() || entry.items.empty() || !entry.items[0].is_symbol(key)) continue;
    if (entry.items.size() == 1 && entry.is_dotted()) return entry.tail[0];
    Datum rest;  // (key a b ...) -> (a b ...)
    rest.items.assign(entry.items.begin() + 1, entry.items.end());
    rest.tail = entry.tail;
    return rest;
  }
  return std::nullopt;
}

std::optional<std::string> alist_string(const Datum& alist, std::string_view key) {
  auto v = alist_ref(alist, key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::move(v->text);
}

std::optional<int64_t> alist_integer(const Datum& alist, std::string_view key) {
  auto v = alist_ref(alist, key);
  if (!v || !v->is_integer()) return std::nullopt;
  return v->integer;
}

}  // namespace chaton::sexpr
